/** zod issues → Kubernetes field causes: dotted paths and messages a user can act on. */
import type { z } from "zod";
import { childSchema, fieldPath, unwrapSchema } from "../../api/index.ts";
import type { FieldCause } from "../../errors/index.ts";

type Issue = z.core.$ZodIssue;
type Schema = z.core.$ZodType;

/** Re-exported: the path format is the API's (see api/field-support.ts). */
export { fieldPath };

/** How causes are written. */
export interface CauseOptions {
  /** Never repeat the offending value (the object carries secrets): errors travel to logs and terminals. */
  hideValues?: boolean;
}

/** One cause per issue; `schema` lets type errors name the exact expected type (integer rather than number). */
export function issuesToCauses(issues: readonly Issue[], schema?: Schema, options: CauseOptions = {}): FieldCause[] {
  const shown = options.hideValues === true ? (): string => "(value hidden)" : show;
  return issues.map((issue) => issueToCause(issue, schema, shown));
}

function issueToCause(issue: Issue, schema: Schema | undefined, show: (value: unknown) => string): FieldCause {
  const field = fieldPath(issue.path);
  switch (issue.code) {
    case "invalid_type":
      if (issue.input === undefined) return { field, reason: "FieldValueRequired", message: "Required value" };
      return { field, reason: "FieldValueTypeInvalid", message: `expected ${expectedType(issue.expected, schema, issue.path)}, got ${typeName(issue.input)}` };
    case "invalid_value":
      return { field, reason: "FieldValueNotSupported", message: `Unsupported value: ${show(issue.input)}: supported values: ${issue.values.map((v) => JSON.stringify(v)).join(", ")}` };
    case "unrecognized_keys":
      return { field, reason: "FieldValueInvalid", message: `unknown field(s): ${issue.keys.join(", ")}` };
    case "invalid_union":
      return { field, reason: "FieldValueInvalid", message: `Invalid value: ${show(issue.input)}: does not match any allowed form` };
    default:
      return { field, reason: "FieldValueInvalid", message: `Invalid value: ${show(issue.input)}: ${issue.message}` };
  }
}

/** A short rendering of the offending value; long values are cut so a cause stays one line. */
function show(value: unknown): string {
  if (value === undefined) return "<absent>";
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number" && !Number.isInteger(value)) return "number";
  if (typeof value === "number") return "integer";
  return typeof value;
}

function expectedType(expected: string, schema: Schema | undefined, path: readonly PropertyKey[]): string {
  if (expected === "int") return "integer";
  if (expected === "number" && schema !== undefined && isIntegerSchema(schemaAt(schema, path))) return "integer";
  return expected;
}

function isIntegerSchema(schema: Schema | undefined): boolean {
  const def = schema?._zod.def as { type?: string; format?: string } | undefined;
  return def?.type === "number" && (def.format === "safeint" || def.format === "int32" || def.format === "uint32");
}

/** The schema of the value at `path`, unwrapping optional/default wrappers; undefined when it cannot be followed. */
export function schemaAt(schema: Schema, path: readonly PropertyKey[]): Schema | undefined {
  let current: Schema | undefined = unwrap(schema);
  for (const segment of path) {
    if (current === undefined) return undefined;
    current = unwrap(childSchema(current, segment));
  }
  return current;
}

function unwrap(schema: Schema | undefined): Schema | undefined {
  return unwrapSchema(schema).schema;
}
