/**
 * Kubernetes field selectors on list and watch: `metadata.name=x,metadata.namespace!=y`. Every kind supports
 * metadata.name and metadata.namespace; events also involvedObject.*, reason and type, as in Kubernetes. Any other
 * field is refused (400) naming it, so a selector is never silently ignored.
 */
import type { KindInfo, Resource } from "../api/index.ts";
import { InputError } from "../errors/index.ts";

/** One term: the field's value must (`=`) or must not (`!=`) equal `value`. */
export interface FieldRequirement {
  field: string;
  equals: boolean;
  value: string;
}

/** A parsed selector: every requirement must hold (comma is AND); empty selects everything. */
export type FieldSelector = readonly FieldRequirement[];

const COMMON_FIELDS = ["metadata.name", "metadata.namespace"];
const EVENT_FIELDS = [
  "involvedObject.kind",
  "involvedObject.namespace",
  "involvedObject.name",
  "involvedObject.uid",
  "involvedObject.apiVersion",
  "involvedObject.resourceVersion",
  "involvedObject.fieldPath",
  "reason",
  "type",
];

/** The fields a kind can be selected by. */
export function selectableFields(kind: KindInfo): string[] {
  return kind.kind === "Event" ? [...COMMON_FIELDS, ...EVENT_FIELDS] : COMMON_FIELDS;
}

/** Parse a selector for `kind`; bad syntax or an unsupported field is an InputError naming it. */
export function parseFieldSelector(selector: string, kind: KindInfo): FieldSelector {
  if (selector.trim() === "") return [];
  return splitUnescaped(selector, ",").map((term) => parseTerm(term.trim(), selector, kind));
}

function parseTerm(term: string, selector: string, kind: KindInfo): FieldRequirement {
  const match = /^([^!=\s]+)\s*(==|!=|=)\s*(.*)$/.exec(term);
  if (match === null) throw invalidSelector(selector, `'${term}' is not field=value, field==value or field!=value`, "fieldSelector");
  const [, field = "", operator = "", value = ""] = match;
  const fields = selectableFields(kind);
  if (!fields.includes(field)) {
    throw invalidSelector(selector, `field "${field}" is not supported for ${kind.plural}; supported fields: ${fields.join(", ")}`, field);
  }
  return { field, equals: operator !== "!=", value: unescape(value) };
}

/** Whether an object satisfies every requirement (a missing field reads as the empty string). */
export function matchesFieldSelector(selector: FieldSelector, object: Resource): boolean {
  return selector.every((requirement) => (fieldValue(object, requirement.field) === requirement.value) === requirement.equals);
}

function fieldValue(object: Resource, path: string): string {
  let current: unknown = object;
  for (const key of path.split(".")) {
    if (typeof current !== "object" || current === null) return "";
    current = (current as Record<string, unknown>)[key];
  }
  return typeof current === "string" ? current : typeof current === "number" ? String(current) : "";
}

/** Split on `separator` except where it is escaped with a backslash (Kubernetes' escaping of `,`, `=` and `\`). */
function splitUnescaped(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = "";
  for (let index = 0; index < text.length; index += 1) {
    const char = text.charAt(index);
    if (char === "\\" && index + 1 < text.length) {
      current += char + text.charAt(index + 1);
      index += 1;
    } else if (char === separator) {
      parts.push(current);
      current = "";
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts;
}

function unescape(value: string): string {
  return value.replace(/\\(.)/g, "$1");
}

function invalidSelector(selector: string, problem: string, field: string): InputError {
  return new InputError(`invalid field selector ${JSON.stringify(selector)}: ${problem}`, { causes: [{ field, reason: "FieldValueNotSupported", message: problem }] });
}
