/** One write transaction: assigns resourceVersions, records changes, and collects garbage (owner cascade). */
import { now, type Resource } from "../../api/index.ts";
import type { StorageCodec } from "../types.ts";
import { alreadyExists, hasFinalizers, isTerminating, keyOfObject, ownerUids, type ObjectKey } from "../object-rules.ts";
import type { StoreTables } from "./tables.ts";
import type { Change } from "../watch-hub.ts";

export type { Change };


/** Reads an object and decodes it; undefined when absent. */
export function loadObject(tables: StoreTables, codec: StorageCodec, key: ObjectKey): Resource | undefined {
  const stored = loadStored(tables, key);
  return stored === undefined ? undefined : codec.decode(stored);
}

/** Reads an object as stored (encoded); undefined when absent. */
export function loadStored(tables: StoreTables, key: ObjectKey): Resource | undefined {
  const json = tables.readObject(key);
  return json === undefined ? undefined : (JSON.parse(json) as Resource);
}

/** Collects the changes of one transaction; the caller commits, then publishes `changes`. */
export class Writer {
  readonly changes: Change[] = [];
  private readonly tables: StoreTables;
  private readonly codec: StorageCodec;
  private counter: number;

  /** `start`: the store's counter before this write (a group commit passes it on from the write before). */
  constructor(tables: StoreTables, codec: StorageCodec, start: number = tables.resourceVersion()) {
    this.tables = tables;
    this.codec = codec;
    this.counter = start;
  }

  /** The last resourceVersion assigned (the store's counter once committed). */
  get resourceVersion(): number {
    return this.counter;
  }

  /**
   * Store an object at a new resourceVersion: ADDED inserts it (AlreadyExistsError when the name is taken), MODIFIED
   * replaces the stored one (every caller has read it in this transaction). `previous`: the object as it was before a MODIFIED, so an unchanged owner list is not written again;
   * an ADDED object has a new uid and so no owner rows yet. Returns an object the writer keeps no reference to
   * outside its `changes`, which are copied for each watcher when published.
   */
  put(type: "ADDED" | "MODIFIED", object: Resource, previous?: Resource): Resource {
    const stored = this.stamp(object);
    const key = keyOfObject(stored);
    const uid = stored.metadata.uid ?? "";
    const json = this.encode(stored);
    const owners = ownerUids(stored);
    if (type === "ADDED") {
      if (!this.tables.insertObject(key, uid, this.counter, json)) throw alreadyExists(key);
      this.tables.addOwners(uid, owners);
    } else {
      this.tables.replaceObject(key, this.counter, json);
      if (previous === undefined || !sameOwners(owners, ownerUids(previous))) this.tables.setOwners(uid, owners);
    }
    return this.record(type, key, json);
  }

  /** Remove an object now, then its dependents (Kubernetes' background cascading deletion). */
  remove(object: Resource): Resource {
    const removed = this.stamp(object);
    const key = keyOfObject(removed);
    this.tables.deleteObject(key);
    const visible = this.record("DELETED", key, this.encode(removed));
    this.collectDependents(removed.metadata.uid ?? "");
    return visible;
  }

  /** Mark an object for deletion; it stays until its finalizers are removed. */
  markDeleted(object: Resource): Resource {
    if (isTerminating(object)) return object;
    return this.put("MODIFIED", { ...object, metadata: { ...object.metadata, deletionTimestamp: now() } }, object);
  }

  private collectDependents(ownerUid: string): void {
    for (const key of this.tables.dependentsOf(ownerUid)) {
      const dependent = loadObject(this.tables, this.codec, key);
      if (dependent === undefined || this.hasLiveOwner(dependent, ownerUid)) continue;
      if (hasFinalizers(dependent)) this.markDeleted(dependent);
      else this.remove(dependent);
    }
  }

  /** A dependent with several owners goes only when none of them is left, as Kubernetes' garbage collector decides. */
  private hasLiveOwner(dependent: Resource, removedUid: string): boolean {
    return this.tables
      .ownersOf(dependent.metadata.uid ?? "")
      .some((uid) => uid !== removedUid && this.tables.objectExists(uid));
  }

  /** The next resourceVersion, on a copy of the object's top level and metadata (nothing deeper is changed). */
  private stamp(object: Resource): Resource {
    this.counter += 1;
    return { ...object, metadata: { ...object.metadata, resourceVersion: String(this.counter) } };
  }

  /** A codec builds new objects and never changes its input (StorageCodec), so no copy is made for it. */
  private encode(object: Resource): string {
    return JSON.stringify(this.codec.encode(object));
  }

  /**
   * Record the change and return the object as a later read will see it: decoded from what was written,
   * so a create or an event shows exactly what get shows (a Secret's stringData folded into data).
   */
  private record(type: Change["type"], key: ObjectKey, json: string): Resource {
    this.tables.appendChange(this.counter, type, key, json);
    const object = this.codec.decode(JSON.parse(json) as Resource);
    this.changes.push({ resourceVersion: this.counter, type, object });
    return object;
  }
}

function sameOwners(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((uid, index) => uid === b[index]);
}
