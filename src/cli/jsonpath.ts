/**
 * kubectl's JSONPath templates (`-o jsonpath=...`, `custom-columns`, `--sort-by`): literal text with `{...}` actions.
 * Supported, as kubectl documents them: `.field`, `['field']`, `..field` (recursive), `[n]` (negative from the end),
 * `[a:b]`, `[*]`, `.*`, `[?(@.path == "v")]` (==, !=, <, <=, >, >=, or a bare path for "present"), `@` (the current
 * object), `{range EXPR}...{end}`, and quoted text `{"\n"}`. Several results of one action are joined by a space;
 * objects and arrays print as JSON, as kubectl prints them.
 */
import { UsageError } from "./args.ts";

type Step =
  | { kind: "field"; name: string }
  | { kind: "recursive"; name: string }
  | { kind: "wildcard" }
  | { kind: "index"; index: number }
  | { kind: "slice"; start: number | undefined; end: number | undefined }
  | { kind: "filter"; path: Step[]; op: string | undefined; value: unknown };

type Node =
  | { kind: "text"; text: string }
  | { kind: "path"; steps: Step[] }
  | { kind: "range"; steps: Step[]; body: Node[] };

/** A parsed template, evaluated against objects with `render`. */
export interface JsonPathTemplate {
  render(data: unknown): string;
  /** The values of a template that is a single path (custom-columns, --sort-by). */
  values(data: unknown): unknown[];
}

const OPERATORS = ["==", "!=", "<=", ">=", "<", ">"] as const;

function invalid(template: string, why: string): UsageError {
  return new UsageError(`invalid jsonpath template ${JSON.stringify(template)}: ${why}`, "get");
}

/** The `{...}` actions and the text between them. */
function tokenize(template: string): { action: boolean; text: string }[] {
  const tokens: { action: boolean; text: string }[] = [];
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf("{", i);
    if (open < 0) {
      tokens.push({ action: false, text: template.slice(i) });
      break;
    }
    if (open > i) tokens.push({ action: false, text: template.slice(i, open) });
    const close = closingBrace(template, open);
    if (close < 0) throw invalid(template, "unclosed {");
    tokens.push({ action: true, text: template.slice(open + 1, close).trim() });
    i = close + 1;
  }
  return tokens;
}

/** The `}` closing the action opened at `open`, skipping quoted text. */
function closingBrace(template: string, open: number): number {
  let quote: string | undefined;
  for (let i = open + 1; i < template.length; i++) {
    const c = template[i];
    if (quote !== undefined) {
      if (c === "\\") i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === "}") {
      return i;
    }
  }
  return -1;
}

/** The steps of a path such as `.items[*].metadata.name` or `..name` or `@.status`. */
export function parsePath(path: string, template = path): Step[] {
  const steps: Step[] = [];
  let rest = path.trim();
  if (rest.startsWith("$")) rest = rest.slice(1);
  if (rest.startsWith("@")) rest = rest.slice(1);
  while (rest.length > 0) {
    const taken = takeStep(rest, template);
    steps.push(taken.step);
    rest = taken.rest;
  }
  return steps;
}

function takeStep(rest: string, template: string): { step: Step; rest: string } {
  if (rest.startsWith("..")) {
    const name = /^\.\.([\w-]+)/.exec(rest);
    if (!name?.[1]) throw invalid(template, `expected a field name after ".." in ${rest}`);
    return { step: { kind: "recursive", name: name[1] }, rest: rest.slice(name[0].length) };
  }
  if (rest.startsWith(".*")) return { step: { kind: "wildcard" }, rest: rest.slice(2) };
  if (rest.startsWith(".")) {
    const { name, length } = fieldName(rest.slice(1));
    if (name === "") throw invalid(template, `expected a field name in ${rest}`);
    return { step: { kind: "field", name }, rest: rest.slice(1 + length) };
  }
  if (rest.startsWith("[")) {
    const close = bracketEnd(rest);
    if (close < 0) throw invalid(template, `unclosed [ in ${rest}`);
    return { step: bracketStep(rest.slice(1, close).trim(), template), rest: rest.slice(close + 1) };
  }
  throw invalid(template, `unexpected ${JSON.stringify(rest[0])} in ${rest}`);
}

/** A field name at the start of `text`: letters, digits, `_$/-`, and `\.` for a dot inside the name. */
function fieldName(text: string): { name: string; length: number } {
  let name = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? "";
    if (c === "\\" && text[i + 1] === ".") {
      name += ".";
      i += 2;
    } else if (/[\w$/-]/.test(c)) {
      name += c;
      i++;
    } else {
      break;
    }
  }
  return { name, length: i };
}

/** The `]` closing the bracket at 0, skipping quotes and nested parentheses of a filter. */
function bracketEnd(text: string): number {
  let quote: string | undefined;
  let depth = 0;
  for (let i = 1; i < text.length; i++) {
    const c = text[i];
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === "(") {
      depth++;
    } else if (c === ")") {
      depth--;
    } else if (c === "]" && depth === 0) {
      return i;
    }
  }
  return -1;
}

function bracketStep(inner: string, template: string): Step {
  if (inner === "*") return { kind: "wildcard" };
  const quoted = /^(['"])(.*)\1$/.exec(inner);
  if (quoted) return { kind: "field", name: quoted[2] ?? "" };
  if (/^-?\d+$/.test(inner)) return { kind: "index", index: Number(inner) };
  const slice = /^(-?\d*):(-?\d*)$/.exec(inner);
  if (slice) return { kind: "slice", start: slice[1] === "" ? undefined : Number(slice[1]), end: slice[2] === "" ? undefined : Number(slice[2]) };
  if (inner.startsWith("?(") && inner.endsWith(")")) return filterStep(inner.slice(2, -1).trim(), template);
  throw invalid(template, `unsupported [${inner}]`);
}

/** `@.path OP value` or a bare `@.path`: the operator is the first one outside quotes. */
function filterStep(expression: string, template: string): Step {
  if (!expression.startsWith("@")) throw invalid(template, `a filter starts with @: ?(${expression})`);
  const at = operatorAt(expression);
  if (at === undefined) return { kind: "filter", path: parsePath(expression, template), op: undefined, value: undefined };
  const path = parsePath(expression.slice(0, at.index), template);
  return { kind: "filter", path, op: at.op, value: literal(expression.slice(at.index + at.op.length).trim(), template) };
}

function operatorAt(expression: string): { index: number; op: string } | undefined {
  for (let i = 0; i < expression.length; i++) {
    const c = expression[i];
    if (c === '"' || c === "'") return undefined;
    const op = OPERATORS.find((candidate) => expression.startsWith(candidate, i));
    if (op !== undefined) return { index: i, op };
  }
  return undefined;
}

function literal(text: string, template: string): unknown {
  const quoted = /^(['"])(.*)\1$/.exec(text.trim());
  if (quoted) return quoted[2];
  if (text === "true" || text === "false") return text === "true";
  const number = Number(text);
  if (Number.isFinite(number)) return number;
  throw invalid(template, `unsupported value ${text} in a filter`);
}

function parseNodes(tokens: { action: boolean; text: string }[], template: string, inRange: boolean): { nodes: Node[]; used: number } {
  const nodes: Node[] = [];
  let i = 0;
  while (i < tokens.length) {
    const token = tokens[i++] as { action: boolean; text: string };
    if (!token.action) {
      nodes.push({ kind: "text", text: token.text });
    } else if (token.text === "end") {
      if (!inRange) throw invalid(template, "{end} without {range}");
      return { nodes, used: i };
    } else if (token.text.startsWith("range ")) {
      const body = parseNodes(tokens.slice(i), template, true);
      nodes.push({ kind: "range", steps: parsePath(token.text.slice(6), template), body: body.nodes });
      i += body.used;
    } else if (/^(['"]).*\1$/s.test(token.text)) {
      nodes.push({ kind: "text", text: unquote(token.text) });
    } else {
      nodes.push({ kind: "path", steps: parsePath(token.text, template) });
    }
  }
  if (inRange) throw invalid(template, "{range} without {end}");
  return { nodes, used: i };
}

function unquote(text: string): string {
  return text.slice(1, -1).replace(/\\(.)/g, (_, c: string) => ({ n: "\n", t: "\t", r: "\r" })[c] ?? c);
}

function children(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (value !== null && typeof value === "object") return Object.values(value);
  return [];
}

function field(value: unknown, name: string): unknown[] {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return [];
  return Object.hasOwn(value, name) ? [(value as Record<string, unknown>)[name]] : [];
}

function recursive(value: unknown, name: string): unknown[] {
  const found = [...field(value, name)];
  for (const child of children(value)) found.push(...recursive(child, name));
  return found;
}

/** The element at `index` (negative: from the end), if there is one. */
function element(value: unknown, index: number): unknown[] {
  if (!Array.isArray(value)) return [];
  const at = index < 0 ? value.length + index : index;
  return at >= 0 && at < value.length ? [value[at]] : [];
}

function slice(value: unknown, start: number | undefined, end: number | undefined): unknown[] {
  return Array.isArray(value) ? value.slice(start, end) : [];
}

function compare(left: unknown, op: string, right: unknown): boolean {
  switch (op) {
    case "==":
      return left === right || String(left) === String(right);
    case "!=":
      return !(left === right || String(left) === String(right));
    default: {
      const [a, b] = typeof right === "number" ? [Number(left), right] : [String(left), String(right)];
      return op === "<" ? a < b : op === "<=" ? a <= b : op === ">" ? a > b : a >= b;
    }
  }
}

function applyStep(values: unknown[], step: Step): unknown[] {
  const out: unknown[] = [];
  for (const value of values) {
    switch (step.kind) {
      case "field":
        out.push(...field(value, step.name));
        break;
      case "recursive":
        out.push(...recursive(value, step.name));
        break;
      case "wildcard":
        out.push(...children(value));
        break;
      case "index":
        out.push(...element(value, step.index));
        break;
      case "slice":
        out.push(...slice(value, step.start, step.end));
        break;
      case "filter":
        out.push(...children(value).filter((item) => matches(item, step)));
        break;
    }
  }
  return out;
}

function matches(item: unknown, step: Extract<Step, { kind: "filter" }>): boolean {
  const found = evaluate(item, step.path);
  if (step.op === undefined) return found.length > 0 && found[0] !== false && found[0] !== null;
  return found.some((value) => compare(value, step.op ?? "==", step.value));
}

/** The values `steps` select from `data`. */
export function evaluate(data: unknown, steps: readonly Step[]): unknown[] {
  return steps.reduce<unknown[]>((values, step) => applyStep(values, step), [data]);
}

/** One value as kubectl prints it: strings bare, objects and arrays as JSON. */
export function printValue(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === undefined) return "";
  return JSON.stringify(value);
}

/** What `{range PATH}` iterates: each selected value, an array's elements when the path selects an array. */
function rangeItems(data: unknown, steps: readonly Step[]): unknown[] {
  return evaluate(data, steps).flatMap((value): unknown[] => (Array.isArray(value) ? (value as unknown[]) : [value]));
}

function renderNodes(nodes: readonly Node[], data: unknown): string {
  let out = "";
  for (const node of nodes) {
    if (node.kind === "text") out += node.text;
    else if (node.kind === "path") out += evaluate(data, node.steps).map(printValue).join(" ");
    else for (const item of rangeItems(data, node.steps)) out += renderNodes(node.body, item);
  }
  return out;
}

/** Parse a template (kubectl also accepts a bare path without braces for custom-columns and --sort-by). */
export function parseTemplate(template: string): JsonPathTemplate {
  const source = template.includes("{") ? template : `{${template}}`;
  const { nodes } = parseNodes(tokenize(source), template, false);
  return {
    render: (data) => renderNodes(nodes, data),
    values: (data) => nodes.flatMap((node) => (node.kind === "path" ? evaluate(data, node.steps) : [])),
  };
}
