/**
 * `holdfast get`'s output formats beyond the tables: `-o jsonpath=TEMPLATE`, `-o custom-columns=HEADER:PATH,...`,
 * `--sort-by=PATH` and `--show-labels`, as kubectl has them.
 */
import type { Resource } from "../api/index.ts";
import { UsageError } from "./args.ts";
import { parseTemplate, printValue, type JsonPathTemplate } from "./jsonpath.ts";
import type { TableSpec } from "./tables.ts";

/** Output formats `-o` accepts. */
export type OutputFormat = "table" | "wide" | "json" | "yaml" | "name" | "jsonpath" | "custom-columns";

const PLAIN: readonly OutputFormat[] = ["table", "wide", "json", "yaml", "name"];

/** `-o` parsed: its format, and the template or columns the templated formats carry. */
export interface Output {
  format: OutputFormat;
  template?: JsonPathTemplate;
  columns?: TableSpec;
}

/** Parse `-o` (`jsonpath=...` and `custom-columns=...` carry their template after `=`). */
export function parseOutput(raw: string, command: string): Output {
  const plain = PLAIN.find((candidate) => candidate === raw);
  if (plain !== undefined) return { format: plain };
  const [name = "", ...rest] = raw.split("=");
  const value = rest.join("=");
  if (name === "jsonpath" && value !== "") return { format: "jsonpath", template: parseTemplate(stripQuotes(value)) };
  if (name === "custom-columns" && value !== "") return { format: "custom-columns", columns: customColumns(value) };
  if (name === "jsonpath" || name === "custom-columns") throw new UsageError(`-o ${name} needs a template: -o ${name}=${name === "jsonpath" ? "'{.items[*].metadata.name}'" : "NAME:.metadata.name,PHASE:.status.phase"}`, command);
  throw new UsageError(`unknown output format "${raw}"; use one of ${PLAIN.join(", ")}, jsonpath=TEMPLATE or custom-columns=SPEC`, command);
}

/** kubectl accepts the template in single quotes that a shell left in place. */
function stripQuotes(value: string): string {
  return /^'.*'$/s.test(value) ? value.slice(1, -1) : value;
}

/** `HEADER:PATH,...` as a table whose cells are each path's values (several joined by ",", none `<none>`). */
export function customColumns(spec: string): TableSpec {
  const columns = spec.split(",").map((part) => {
    const colon = part.indexOf(":");
    if (colon <= 0 || colon === part.length - 1) throw new UsageError(`custom-columns: "${part}" is not HEADER:PATH (e.g. NAME:.metadata.name)`, "get");
    return { header: part.slice(0, colon), path: parseTemplate(part.slice(colon + 1)) };
  });
  return {
    headers: columns.map((c) => c.header),
    row: (object) => columns.map((c) => cell(c.path.values(object))),
  };
}

function cell(values: unknown[]): string {
  return values.length === 0 ? "<none>" : values.map(printValue).join(",");
}

/** The table with a LABELS column last (`--show-labels`). */
export function withLabels(table: TableSpec): TableSpec {
  return {
    headers: [...table.headers, "LABELS"],
    row: (object, now) => [...table.row(object, now), labelsOf(object)],
  };
}

function labelsOf(object: Resource): string {
  const labels = Object.entries(object.metadata.labels ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return labels.length === 0 ? "<none>" : labels.map(([k, v]) => `${k}=${v}`).join(",");
}

/** Objects ordered by the first value `path` selects: numbers by value, the rest as text, objects without it first. */
export function sortBy(objects: readonly Resource[], path: JsonPathTemplate): Resource[] {
  const keyed = objects.map((object) => ({ object, key: path.values(object)[0] }));
  return keyed.sort((a, b) => compareKeys(a.key, b.key)).map((k) => k.object);
}

function compareKeys(a: unknown, b: unknown): number {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? -1 : 1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return printValue(a).localeCompare(printValue(b));
}
