/** Kubernetes label selectors: `a=b,c!=d,e in (f,g),h notin (i),j,!k`, parsed once and matched many times. */
import { InputError } from "../errors/index.ts";

/** The operators of a label requirement, named as in `metav1.LabelSelectorRequirement`. */
export type LabelOperator = "Equals" | "NotEquals" | "In" | "NotIn" | "Exists" | "DoesNotExist" | "GreaterThan" | "LessThan";

/** One requirement of a selector; every requirement must hold (comma is AND). */
export interface LabelRequirement {
  key: string;
  operator: LabelOperator;
  values: string[];
}

/** A parsed selector; empty matches everything. */
export type LabelSelector = LabelRequirement[];

const QUALIFIED_NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const SPECIAL = new Set([",", "(", ")", "=", "!", "<", ">"]);

type Token = { kind: "word"; text: string } | { kind: "symbol"; text: string };

/** Parse a selector string; bad syntax is an InputError naming the selector. */
export function parseLabelSelector(selector: string): LabelSelector {
  const parser = new SelectorParser(selector, tokenize(selector));
  return parser.parse();
}

/** Whether a set of labels satisfies every requirement of the selector. */
export function matchesLabelSelector(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  return selector.every((requirement) => matchesRequirement(requirement, labels ?? {}));
}

function matchesRequirement(requirement: LabelRequirement, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, requirement.key);
  const value = has ? labels[requirement.key] : undefined;
  switch (requirement.operator) {
    case "Exists":
      return has;
    case "DoesNotExist":
      return !has;
    case "Equals":
    case "In":
      return value !== undefined && requirement.values.includes(value);
    case "NotEquals":
    case "NotIn":
      return value === undefined || !requirement.values.includes(value);
    case "GreaterThan":
    case "LessThan":
      return compareInteger(requirement, value);
  }
}

function compareInteger(requirement: LabelRequirement, value: string | undefined): boolean {
  if (value === undefined || !/^-?[0-9]+$/.test(value)) return false;
  const bound = Number(requirement.values[0]);
  return requirement.operator === "GreaterThan" ? Number(value) > bound : Number(value) < bound;
}

function tokenize(selector: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  while (index < selector.length) {
    const char = selector.charAt(index);
    if (/\s/.test(char)) {
      index += 1;
    } else if (SPECIAL.has(char)) {
      const pair = selector.slice(index, index + 2);
      const text = pair === "==" || pair === "!=" ? pair : char;
      tokens.push({ kind: "symbol", text });
      index += text.length;
    } else {
      let end = index;
      while (end < selector.length && !SPECIAL.has(selector.charAt(end)) && !/\s/.test(selector.charAt(end))) end += 1;
      tokens.push({ kind: "word", text: selector.slice(index, end) });
      index = end;
    }
  }
  return tokens;
}

/** A recursive-descent parser over the tokens of one selector. */
class SelectorParser {
  private readonly source: string;
  private readonly tokens: Token[];
  private position = 0;

  constructor(source: string, tokens: Token[]) {
    this.source = source;
    this.tokens = tokens;
  }

  parse(): LabelSelector {
    const requirements: LabelSelector = [];
    if (this.tokens.length === 0) return requirements;
    for (;;) {
      requirements.push(this.requirement());
      const next = this.take();
      if (next === undefined) return requirements;
      if (next.text !== ",") this.fail(`expected ',' but found '${next.text}'`);
    }
  }

  private requirement(): LabelRequirement {
    const first = this.take();
    if (first?.kind === "symbol" && first.text === "!") {
      return { key: this.key(this.take()), operator: "DoesNotExist", values: [] };
    }
    const key = this.key(first);
    const next = this.peek();
    if (next === undefined || next.text === ",") return { key, operator: "Exists", values: [] };
    this.position += 1;
    if (next.kind === "word") return this.setRequirement(key, next.text);
    return this.valueRequirement(key, next.text);
  }

  private setRequirement(key: string, word: string): LabelRequirement {
    if (word !== "in" && word !== "notin") this.fail(`expected an operator after '${key}' but found '${word}'`);
    if (this.take()?.text !== "(") this.fail(`expected '(' after '${word}'`);
    return { key, operator: word === "in" ? "In" : "NotIn", values: this.valueList(`${key} ${word}`) };
  }

  /** `x, y)`: the values of a set requirement up to the closing parenthesis. */
  private valueList(context: string): string[] {
    const values: string[] = [];
    for (;;) {
      const token = this.take();
      if (token?.kind !== "word") this.fail(`expected a value in the list of '${context}'`);
      values.push(this.value(token.text));
      const separator = this.take();
      if (separator?.text === ")") return values;
      if (separator?.text !== ",") this.fail(`expected ',' or ')' in the list of '${context}'`);
    }
  }

  private valueRequirement(key: string, symbol: string): LabelRequirement {
    const operators: Record<string, LabelOperator> = { "=": "Equals", "==": "Equals", "!=": "NotEquals", ">": "GreaterThan", "<": "LessThan" };
    const operator = operators[symbol];
    if (operator === undefined) this.fail(`unexpected '${symbol}' after '${key}'`);
    const next = this.peek();
    // `a=` selects the empty value, as in Kubernetes.
    const text = next === undefined || next.text === "," ? "" : this.take()?.text ?? "";
    if (next?.kind === "symbol" && next.text !== ",") this.fail(`expected a value after '${key}${symbol}'`);
    if (operator !== "GreaterThan" && operator !== "LessThan") return { key, operator, values: [this.value(text)] };
    if (!/^-?[0-9]+$/.test(text)) this.fail(`'${key} ${symbol}' needs an integer value`);
    return { key, operator, values: [text] };
  }

  private key(token: Token | undefined): string {
    if (token?.kind !== "word") this.fail("expected a label key");
    const text = token.text;
    const slash = text.indexOf("/");
    const prefix = slash === -1 ? undefined : text.slice(0, slash);
    const name = slash === -1 ? text : text.slice(slash + 1);
    const prefixOk = prefix === undefined || (prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix));
    if (!prefixOk || name.length > 63 || !QUALIFIED_NAME.test(name)) this.fail(`'${text}' is not a valid label key`);
    return text;
  }

  private value(text: string): string {
    if (text !== "" && (text.length > 63 || !QUALIFIED_NAME.test(text))) this.fail(`'${text}' is not a valid label value`);
    return text;
  }

  private peek(): Token | undefined {
    return this.tokens[this.position];
  }

  private take(): Token | undefined {
    const token = this.tokens[this.position];
    this.position += 1;
    return token;
  }

  private fail(problem: string): never {
    throw new InputError(`invalid label selector "${this.source}": ${problem}; write it as a=b,c!=d,e in (f,g),!h`, {
      causes: [{ field: "labelSelector", message: problem }],
    });
  }
}
