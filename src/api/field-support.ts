/**
 * Which fields of a kind exist, and which of them Holdfast does not honour, known from the kinds' zod schemas
 * so that every kind gets the same treatment without a list per kind: a field the schema does not name is
 * unknown (warned about or refused, as Kubernetes' `fieldValidation` says); a field the schema marks with
 * `notHonoured` is reported when set (admission warning, and the Cluster's RuntimeLimitations condition); one
 * marked `refusedWhen` is refused at admission when its value asks for what Holdfast cannot do.
 */
import { z } from "zod";

type Schema = z.core.$ZodType;

/** How Holdfast treats a field that exists in the KubeBlocks API. */
export interface FieldSupport {
  /** `reported`: accepted, not honoured, said so; `refused`: rejected at admission. */
  support: "reported" | "refused";
  /** Why, and what to do instead; written after the field's path. */
  message: string;
  /** Does this value need the note? Default: any value that is present (not null). */
  when?: (value: unknown) => boolean;
}

const fieldSupport = z.registry<FieldSupport>();

/** Mark `schema` as a field Holdfast accepts but does not honour (reported whenever it is set, or when `when` says). */
export function notHonoured<T extends Schema>(schema: T, message: string, when?: (value: unknown) => boolean): T {
  fieldSupport.add(schema, when === undefined ? { support: "reported", message } : { support: "reported", message, when });
  return schema;
}

/** Mark `schema` as a field refused at admission when `when` holds of its value (e.g. `tls: true` before TLS lands). */
export function refusedWhen<T extends Schema>(schema: T, when: (value: unknown) => boolean, message: string): T {
  fieldSupport.add(schema, { support: "refused", message, when });
  return schema;
}

/** What Holdfast says of a field's schema (not honoured, refused), for documentation such as OpenAPI descriptions. */
export function fieldSupportOf(schema: Schema): FieldSupport | undefined {
  return fieldSupport.get(schema);
}

/** `["spec","componentSpecs",0,"replicas"]` → `spec.componentSpecs[0].replicas`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (typeof segment === "string" && /^[A-Za-z_$][\w$-]*$/.test(segment)) out += out === "" ? segment : `.${segment}`;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out === "" ? "<root>" : out;
}

interface Def {
  type: string;
  shape?: Record<string, Schema>;
  element?: Schema;
  valueType?: Schema;
  innerType?: Schema;
  in?: Schema;
  getter?: () => Schema;
}

function defOf(schema: Schema): Def {
  const def: unknown = schema._zod.def;
  return def as Def;
}

/** The schema inside optional/default/nullable/pipe/lazy wrappers, with the support note found on the way. */
export function unwrapSchema(schema: Schema | undefined): { schema: Schema | undefined; note: FieldSupport | undefined } {
  let current = schema;
  let note: FieldSupport | undefined;
  for (let i = 0; current !== undefined && i < 8; i++) {
    note ??= fieldSupport.get(current);
    const def = defOf(current);
    const inner = def.innerType ?? (def.type === "pipe" ? def.in : undefined) ?? (def.type === "lazy" ? def.getter?.() : undefined);
    if (inner === undefined) break;
    current = inner;
  }
  return { schema: current, note };
}

/** The schema of one child (`segment`) of a value of `schema`; undefined when the schema does not say. */
export function childSchema(schema: Schema, segment: PropertyKey): Schema | undefined {
  const def = defOf(schema);
  // Own keys only: `__proto__` or `constructor` in a body must not find Object.prototype's.
  if (def.type === "object" && typeof segment === "string") return def.shape !== undefined && Object.hasOwn(def.shape, segment) ? def.shape[segment] : undefined;
  if (def.type === "array") return def.element;
  if (def.type === "record") return def.valueType;
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The fields of `value` that `schema` does not name, and `value` without them (Kubernetes' pruning). */
export function pruneUnknownFields(schema: Schema, value: unknown, path: readonly PropertyKey[] = []): { value: unknown; unknown: string[] } {
  const inner = unwrapSchema(schema).schema;
  const type = inner === undefined ? undefined : defOf(inner).type;
  if (inner === undefined) return { value, unknown: [] };
  if (type === "array" && Array.isArray(value)) {
    const element = childSchema(inner, 0);
    const items = value.map((item: unknown, i) => (element === undefined ? { value: item, unknown: [] } : pruneUnknownFields(element, item, [...path, i])));
    return { value: items.map((i) => i.value), unknown: items.flatMap((i) => i.unknown) };
  }
  if (!isRecord(value) || (type !== "object" && type !== "record")) return { value, unknown: [] };
  return pruneObject(inner, value, path);
}

/** pruneUnknownFields for an object (or map) value. */
function pruneObject(schema: Schema, value: Record<string, unknown>, path: readonly PropertyKey[]): { value: Record<string, unknown>; unknown: string[] } {
  const kept: [string, unknown][] = [];
  const unknown: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    const childType = childSchema(schema, key);
    // null deletes in a merge patch: nothing to warn about.
    if (childType === undefined && child !== null) {
      unknown.push(fieldPath([...path, key]));
      continue;
    }
    const pruned = childType === undefined ? { value: child, unknown: [] } : pruneUnknownFields(childType, child, [...path, key]);
    kept.push([key, pruned.value]);
    unknown.push(...pruned.unknown);
  }
  // fromEntries defines own properties: a `__proto__` key stays data, never a prototype.
  return { value: Object.fromEntries(kept), unknown };
}

/** One field that is set and not honoured or refused, by path. */
export interface FieldNote {
  field: string;
  support: FieldSupport["support"];
  message: string;
}

/** Every field of `value` whose schema carries a support note that applies to its value. */
export function fieldNotes(schema: Schema, value: unknown, path: readonly PropertyKey[] = []): FieldNote[] {
  const { schema: inner, note } = unwrapSchema(schema);
  if (note !== undefined && value !== undefined && value !== null) {
    return (note.when ?? (() => true))(value) ? [{ field: fieldPath(path), support: note.support, message: note.message }] : [];
  }
  if (inner === undefined) return [];
  if (Array.isArray(value)) {
    const element = defOf(inner).type === "array" ? defOf(inner).element : undefined;
    return element === undefined ? [] : value.flatMap((item, i) => fieldNotes(element, item, [...path, i]));
  }
  if (!isRecord(value)) return [];
  return Object.entries(value).flatMap(([key, child]) => {
    const childType = childSchema(inner, key);
    return childType === undefined ? [] : fieldNotes(childType, child, [...path, key]);
  });
}
