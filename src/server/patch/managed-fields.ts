/**
 * Field ownership (`metadata.managedFields`) and server-side apply: who set which field, conflicts when an apply
 * would change a field another manager set, and removal of the fields an applier stops applying.
 */
import { z } from "zod";
import { ConflictError, InputError } from "../../errors/index.ts";
import { displayPath, fieldSetOf, fromFieldsV1, removePath, toFieldsV1, valueAtPath, type FieldSet } from "./field-set.ts";
import { jsonEqual } from "../../store/index.ts";
import { applyStrategicMergePatch, type ListMergeLookup } from "./strategic-merge-patch.ts";

type JsonObject = Record<string, unknown>;

/** One `metadata.managedFields` entry. */
export interface ManagedFieldsEntry {
  manager: string;
  operation: "Apply" | "Update";
  apiVersion: string;
  time: string;
  fieldsType: "FieldsV1";
  fieldsV1: JsonObject;
}

const entrySchema = z.looseObject({
  manager: z.string(),
  operation: z.enum(["Apply", "Update"]),
  apiVersion: z.string(),
  time: z.string().optional(),
  fieldsType: z.literal("FieldsV1").optional(),
  fieldsV1: z.record(z.string(), z.unknown()).optional(),
});

interface Manager {
  manager: string;
  operation: "Apply" | "Update";
  apiVersion: string;
  time: string;
  fields: FieldSet;
}

/** Who writes, with what, and the object's list merge rules. */
export interface Writer {
  manager: string;
  /** apiVersion of the object, recorded with the fields. */
  apiVersion: string;
  lists: ListMergeLookup;
  now: string;
}

// Identity and server-owned fields are nobody's; status is written through its own subresource.
const UNOWNED_METADATA = new Set(["f:name", "f:namespace", "f:uid", "f:resourceVersion", "f:generation", "f:creationTimestamp", "f:deletionTimestamp", "f:managedFields"]);

function unowned(tokens: readonly string[]): boolean {
  const [first, second] = tokens;
  if (tokens.length === 1) return first === "f:apiVersion" || first === "f:kind" || first === "f:status";
  return tokens.length === 2 && first === "f:metadata" && second !== undefined && UNOWNED_METADATA.has(second);
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function metadataOf(object: unknown): JsonObject {
  return isObject(object) && isObject(object["metadata"]) ? object["metadata"] : {};
}

/** The managers recorded on an object (entries that do not parse are dropped). */
function managersOf(object: unknown): Manager[] {
  const entries = metadataOf(object)["managedFields"];
  if (!Array.isArray(entries)) return [];
  return entries.flatMap((entry) => {
    const parsed = entrySchema.safeParse(entry);
    if (!parsed.success) return [];
    const { manager, operation, apiVersion, time = "", fieldsV1 } = parsed.data;
    return [{ manager, operation, apiVersion, time, fields: fromFieldsV1(fieldsV1) }];
  });
}

function withManagers(object: JsonObject, managers: readonly Manager[]): JsonObject {
  const managedFields: ManagedFieldsEntry[] = managers
    .filter((m) => m.fields.size > 0)
    .map((m) => ({ manager: m.manager, operation: m.operation, apiVersion: m.apiVersion, time: m.time, fieldsType: "FieldsV1", fieldsV1: toFieldsV1(m.fields) }));
  const metadata = { ...metadataOf(object) };
  delete metadata["managedFields"];
  return { ...object, metadata: managedFields.length > 0 ? { ...metadata, managedFields } : metadata };
}

function isSelf(m: Manager, writer: Writer, operation: Manager["operation"]): boolean {
  return m.manager === writer.manager && m.operation === operation;
}

/** A field manager name from `?fieldManager=` or, for writes other than apply, the client's User-Agent (as Kubernetes does). */
export function fieldManagerOf(query: URLSearchParams, userAgent: string | undefined, apply: boolean): string {
  const given = query.get("fieldManager");
  if (given !== null && given !== "") {
    if (given.length > 128 || !/^[\x20-\x7e]+$/.test(given)) throw new InputError("fieldManager must be at most 128 printable ASCII characters");
    return given;
  }
  if (apply) throw new InputError("fieldManager is required for apply requests (application/apply-patch+yaml); kubectl sends it with --server-side");
  const agent = (userAgent ?? "").split("/")[0]?.trim() ?? "";
  return agent === "" ? "unknown" : agent.slice(0, 128);
}

/**
 * Record a write other than apply: the fields it changed become `writer`'s (operation Update) and leave every
 * other manager; fields it removed leave everyone.
 */
export function recordUpdate(old: unknown, updated: JsonObject, writer: Writer): JsonObject {
  const present = fieldSetOf(updated, writer.lists, unowned);
  const changed = [...present].filter((path) => {
    const before = valueAtPath(old, path);
    return before === undefined || (!path.endsWith(".") && !jsonEqual(before, valueAtPath(updated, path)));
  });
  const managers = managersOf(old).map((m) => ({ ...m, fields: new Set([...m.fields].filter((p) => present.has(p) && (isSelf(m, writer, "Update") || !changed.includes(p)))) }));
  if (changed.length > 0) {
    const mine = managers.find((m) => isSelf(m, writer, "Update"));
    if (mine === undefined) managers.push({ manager: writer.manager, operation: "Update", apiVersion: writer.apiVersion, time: writer.now, fields: new Set(changed) });
    else {
      for (const path of changed) mine.fields.add(path);
      mine.time = writer.now;
    }
  }
  return withManagers(updated, managers);
}

/** Server-side apply of `applied` (the applier's whole intent) to `live`; 409 naming the fields and their managers unless `force`. */
export function serverSideApply(live: JsonObject | undefined, applied: JsonObject, writer: Writer, force: boolean): JsonObject {
  const owned = fieldSetOf(applied, writer.lists, unowned);
  const managers = managersOf(live);
  const others = managers.filter((m) => !isSelf(m, writer, "Apply"));
  const conflicts = live === undefined ? [] : conflictsOf(live, applied, owned, others);
  if (conflicts.length > 0 && !force) throw conflictError(conflicts);
  for (const { manager, path } of conflicts) manager.fields.delete(path);
  const previous = managers.find((m) => isSelf(m, writer, "Apply"))?.fields ?? new Set<string>();
  const merged = applyStrategicMergePatch(stripManaged(live ?? {}), applied, writer.lists) as JsonObject;
  for (const path of previous) {
    if (!owned.has(path) && !others.some((m) => m.fields.has(path))) removePath(merged, path);
  }
  const mine: Manager = { manager: writer.manager, operation: "Apply", apiVersion: writer.apiVersion, time: writer.now, fields: owned };
  return withManagers(merged, [...others, mine]);
}

function stripManaged(object: JsonObject): JsonObject {
  const metadata = { ...metadataOf(object) };
  delete metadata["managedFields"];
  return { ...object, metadata };
}

interface Conflict {
  manager: Manager;
  path: string;
}

function conflictsOf(live: JsonObject, applied: JsonObject, owned: FieldSet, others: readonly Manager[]): Conflict[] {
  const conflicts: Conflict[] = [];
  for (const path of owned) {
    if (path.endsWith(".")) continue;
    const differs = !jsonEqual(valueAtPath(live, path), valueAtPath(applied, path));
    if (!differs) continue;
    for (const manager of others) if (manager.fields.has(path)) conflicts.push({ manager, path });
  }
  return conflicts;
}

function conflictError(conflicts: readonly Conflict[]): ConflictError {
  const described = conflicts.map((c) => `conflict with ${JSON.stringify(c.manager.manager)}${c.manager.operation === "Update" ? "" : " (Apply)"} using ${c.manager.apiVersion}: ${displayPath(c.path)}`);
  const noun = conflicts.length === 1 ? "conflict" : "conflicts";
  return new ConflictError(`Apply failed with ${conflicts.length} ${noun}: ${described.join("; ")}; apply again with force (kubectl apply --server-side --force-conflicts) to take these fields, or stop applying them`, {
    causes: conflicts.map((c) => ({
      field: displayPath(c.path),
      reason: "FieldManagerConflict",
      message: `conflict with ${JSON.stringify(c.manager.manager)} using ${c.manager.apiVersion}`,
    })),
  });
}
