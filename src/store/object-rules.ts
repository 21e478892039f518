/** The pure rules of the store: identity, scope, create defaults, update merging, generation and conflicts. */
import { allKinds, type KindInfo, type ObjectMeta, type ObjectRef, type Resource } from "../api/index.ts";
import { AlreadyExistsError, ConflictError, GoneError, InputError, InvalidError } from "../errors/index.ts";
import { jsonEqual } from "./json-equal.ts";
import type { DeleteOptions, StorageCodec } from "./types.ts";

/** Where an object lives: `namespace` is "" for cluster-scoped kinds. */
export interface ObjectKey {
  kind: string;
  namespace: string;
  name: string;
}

/** Metadata only the store may set. */
const SERVER_OWNED: ReadonlySet<string> = new Set(["uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp"]);

/** The kind's registry entry; an unknown kind is the caller's mistake. */
export function kindInfo(kind: string): KindInfo {
  const info = allKinds().find((candidate) => candidate.kind === kind);
  if (!info) {
    const known = allKinds().map((candidate) => candidate.kind).join(", ");
    throw new InputError(`unknown kind "${kind}"; use one of: ${known}`, { causes: [{ field: "kind", message: "unknown kind" }] });
  }
  return info;
}

/** The key of a reference, checking that the namespace matches the kind's scope. */
export function keyOf(ref: ObjectRef): ObjectKey {
  const info = kindInfo(ref.kind);
  if (typeof ref.name !== "string" || ref.name === "") {
    throw new InvalidError(`${ref.kind} needs metadata.name; set it`, { causes: [{ field: "metadata.name", message: "Required value", reason: "FieldValueRequired" }] });
  }
  const namespace = ref.namespace ?? "";
  if (info.namespaced && namespace === "") {
    throw new InvalidError(`${ref.kind} "${ref.name}" is namespaced: set metadata.namespace (for example "default")`, {
      causes: [{ field: "metadata.namespace", message: "Required value", reason: "FieldValueRequired" }],
      subject: { kind: ref.kind, name: ref.name },
    });
  }
  if (!info.namespaced && namespace !== "") {
    throw new InvalidError(`${ref.kind} is cluster-scoped: remove metadata.namespace`, {
      causes: [{ field: "metadata.namespace", message: "must not be set on a cluster-scoped kind", reason: "FieldValueForbidden" }],
      subject: { kind: ref.kind, name: ref.name },
    });
  }
  return { kind: ref.kind, namespace, name: ref.name };
}

/** The key of an object as given by a caller. */
export function keyOfObject(object: Resource): ObjectKey {
  if (typeof object.metadata !== "object") {
    throw new InvalidError(`${object.kind} needs metadata`, { causes: [{ field: "metadata", message: "Required value", reason: "FieldValueRequired" }] });
  }
  const { name, namespace } = object.metadata;
  return keyOf(namespace === undefined ? { kind: object.kind, name } : { kind: object.kind, namespace, name });
}

/** Human name of a key for messages: `Secret "ns/name"`. */
export function describeKey(key: ObjectKey): string {
  return `${key.kind} "${key.namespace === "" ? key.name : `${key.namespace}/${key.name}`}"`;
}

/** A JSON copy: what the store keeps is exactly what JSON can carry, and callers never share references with it. */
export function jsonCopy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** The object to insert: caller's fields, server-owned metadata assigned fresh. */
export function prepareCreate(input: Resource, uid: string, timestamp: string): Resource {
  return { ...input, metadata: { ...withoutServerOwned(input.metadata), uid, generation: 1, creationTimestamp: timestamp } };
}

/** Refuse a write whose resourceVersion (when given) is not the stored one. */
export function checkResourceVersion(existing: Resource, incoming: Resource, key: ObjectKey): void {
  const expected = incoming.metadata.resourceVersion;
  if (expected !== undefined && expected !== "" && expected !== existing.metadata.resourceVersion) {
    throw new ConflictError(
      `Operation cannot be fulfilled on ${describeKey(key)}: the object has been modified (resourceVersion ${expected} is stale, current is ${existing.metadata.resourceVersion ?? "unknown"}); re-read the object and retry`,
      { subject: { kind: key.kind, name: key.name } },
    );
  }
  const uid = incoming.metadata.uid;
  if (uid !== undefined && uid !== "" && uid !== existing.metadata.uid) {
    throw new ConflictError(`${describeKey(key)} was deleted and recreated (uid ${uid} no longer exists); re-read the object and retry`, {
      subject: { kind: key.kind, name: key.name },
    });
  }
}

/** The result of merging an update: the next object and whether anything changed. */
export interface MergedUpdate {
  object: Resource;
  changed: boolean;
}

/** Merge a full update: everything but status and server-owned metadata comes from the caller. */
export function mergeUpdate(existing: Resource, incoming: Resource, key: ObjectKey): MergedUpdate {
  checkResourceVersion(existing, incoming, key);
  refuseNewFinalizersWhileDeleting(existing, incoming, key);
  const next: Resource = { ...incoming, metadata: { ...withoutServerOwned(incoming.metadata), ...serverOwned(existing.metadata) } };
  if (existing.status === undefined) delete next.status;
  else next.status = existing.status;
  if (!jsonEqual(withoutMetadataAndStatus(next), withoutMetadataAndStatus(existing))) {
    next.metadata.generation = (existing.metadata.generation ?? 0) + 1;
    return { object: next, changed: true };
  }
  return { object: next, changed: !sameIgnoringResourceVersion(existing, next) };
}

/** Merge a status update: only `status` comes from the caller. */
export function mergeStatus(existing: Resource, incoming: Resource, key: ObjectKey): MergedUpdate {
  checkResourceVersion(existing, incoming, key);
  const next: Resource = { ...existing };
  if (incoming.status === undefined) delete next.status;
  else next.status = incoming.status;
  return { object: next, changed: !sameIgnoringResourceVersion(existing, next) };
}

/** Whether an object is waiting for its finalizers to go. */
export function isTerminating(object: Resource): boolean {
  return object.metadata.deletionTimestamp !== undefined;
}

/** Whether an object still has finalizers. */
export function hasFinalizers(object: Resource): boolean {
  return (object.metadata.finalizers ?? []).length > 0;
}

/** The uids an object names as its owners. */
export function ownerUids(object: Resource): string[] {
  return [...new Set((object.metadata.ownerReferences ?? []).map((reference) => reference.uid))];
}

function refuseNewFinalizersWhileDeleting(existing: Resource, incoming: Resource, key: ObjectKey): void {
  if (!isTerminating(existing)) return;
  const before = new Set(existing.metadata.finalizers ?? []);
  const added = (incoming.metadata.finalizers ?? []).filter((finalizer) => !before.has(finalizer));
  if (added.length === 0) return;
  throw new InvalidError(`${describeKey(key)} is being deleted: finalizers can only be removed now, not added (${added.join(", ")})`, {
    causes: [{ field: "metadata.finalizers", message: "no new finalizers can be added if the object is being deleted", reason: "FieldValueForbidden" }],
    subject: { kind: key.kind, name: key.name },
  });
}

function withoutServerOwned(metadata: ObjectMeta): ObjectMeta {
  const kept: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(metadata)) if (!SERVER_OWNED.has(field)) kept[field] = value;
  return kept as unknown as ObjectMeta;
}

function serverOwned(metadata: ObjectMeta): Partial<ObjectMeta> {
  const owned: Record<string, unknown> = {};
  for (const field of SERVER_OWNED) {
    const value = (metadata as unknown as Record<string, unknown>)[field];
    if (value !== undefined) owned[field] = value;
  }
  return owned;
}

function withoutMetadataAndStatus(object: Resource): Record<string, unknown> {
  const rest: Record<string, unknown> = { ...object };
  delete rest["metadata"];
  delete rest["status"];
  return rest;
}

function sameIgnoringResourceVersion(a: Resource, b: Resource): boolean {
  const strip = (object: Resource): Resource => ({ ...object, metadata: { ...object.metadata, resourceVersion: "" } });
  return jsonEqual(strip(a), strip(b));
}

/** Refuse a delete whose uid or resourceVersion precondition does not match the stored object. */
export function checkDeletePreconditions(existing: Resource, options: DeleteOptions, key: ObjectKey): void {
  const mismatch =
    (options.uid !== undefined && options.uid !== existing.metadata.uid) ||
    (options.resourceVersion !== undefined && options.resourceVersion !== existing.metadata.resourceVersion);
  if (mismatch) {
    throw new ConflictError(`Precondition failed for deleting ${describeKey(key)}: the object has changed since it was read; re-read it and retry`, {
      subject: { kind: key.kind, name: key.name },
    });
  }
}

/** A resourceVersion from a caller: "" or absent is 0 (live only). */
export function parseResourceVersion(value: string | undefined): number {
  if (value === undefined || value === "") return 0;
  if (!/^[0-9]+$/.test(value)) {
    throw new InputError(`resourceVersion "${value}" is not valid; pass the resourceVersion of a list or an object`, {
      causes: [{ field: "resourceVersion", message: "must be a non-negative integer" }],
    });
  }
  return Number(value);
}

/** The codec of a store that stores objects as they are. */
export const IDENTITY_CODEC: StorageCodec = { encode: (object) => object, decode: (object) => object };

/** Decode for a list, a watch or a delete: an object the codec refuses is shown as the codec marks it. */
export function decodeListed(codec: StorageCodec, stored: Resource): Resource {
  try {
    return codec.decode(stored);
  } catch (error) {
    const marked = codec.unreadable?.(stored, error);
    if (marked === undefined) throw error;
    return marked;
  }
}

/** A create of a name that exists. */
export function alreadyExists(key: ObjectKey): AlreadyExistsError {
  return new AlreadyExistsError(`${describeKey(key)} already exists; choose another name, or update the existing object`, {
    subject: { kind: key.kind, name: key.name },
  });
}

/** A watch from a resourceVersion whose history was compacted. */
export function tooOldResourceVersion(from: number, compacted: number): GoneError {
  return new GoneError(`too old resource version: ${from} (history starts after ${compacted}); list again and watch from the list's resourceVersion`);
}
