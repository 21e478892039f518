/** The embedded store: Kubernetes object semantics over one node:sqlite file. */
import { randomUUID } from "node:crypto";
import type { DatabaseSync } from "node:sqlite";
import { now, type ObjectRef, type Resource } from "../../api/index.ts";
import { HoldfastError, InputError, NotFoundError, UnavailableError } from "../../errors/index.ts";
import { parseLabelSelector } from "../label-selector.ts";
import { scrubDatabase } from "../../util/index.ts";
import type { DeleteOptions, ListOptions, WriteOptions, ListResult, StaleHistoryPurge, StorageCodec, Store, Watch, WatchEvent, WatchOptions } from "../types.ts";
import { openDatabase } from "./database.ts";
import {
  checkDeletePreconditions,
  decodeListed,
  IDENTITY_CODEC,
  tooOldResourceVersion,
  describeKey,
  hasFinalizers,
  jsonCopy,
  keyOf,
  keyOfObject,
  kindInfo,
  mergeStatus,
  mergeUpdate,
  parseResourceVersion,
  prepareCreate,
  type MergedUpdate,
  type ObjectKey,
} from "../object-rules.ts";
import { StoreTables } from "./tables.ts";
import { checkFence, SqliteLeases } from "./sqlite-leases.ts";
import { GroupCommit } from "./group-commit.ts";
import type { HeldLease } from "../leases.ts";
import { matchesFilter, WatchHub, type WatchErrorHandler, type WatchFilter } from "../watch-hub.ts";
import type { Writer} from "./writer.ts";
import { loadObject, loadStored, type Change } from "./writer.ts";

/** How to open the embedded store. */
export interface SqliteStoreOptions {
  /** The store file; created with mode 0600. */
  path: string;
  /** The file must exist with content (a server on an initialised home): a missing or empty one is damage. */
  existing?: boolean;
  /** Applied to every object on its way to disk and back (Secret encryption). */
  codec?: StorageCodec;
  /** How many changes are kept for watches to resume from (default 20000). */
  historyLimit?: number;
  /** Told when a watch callback throws; the store carries on either way. */
  onWatchError?: WatchErrorHandler;
}

const DEFAULT_HISTORY_LIMIT = 20000;

/** Open the embedded store at `options.path`. */
export function openSqliteStore(options: SqliteStoreOptions): Store {
  const limit = options.historyLimit ?? DEFAULT_HISTORY_LIMIT;
  if (!Number.isInteger(limit) || limit < 1) throw new InputError(`historyLimit must be a positive integer, not ${limit}`);
  const db = openDatabase(options.path, { existing: options.existing === true });
  const tables = new StoreTables(db);
  const codec = options.codec ?? IDENTITY_CODEC;
  const hub = new WatchHub(options.onWatchError ?? (() => undefined));
  const shared: Shared = { db, tables, codec, historyLimit: limit, hub, closed: false, leases: undefined, group: undefined };
  return new SqliteStore(shared, undefined);
}

/** What a store and its fenced views share. */
interface Shared {
  db: DatabaseSync;
  tables: StoreTables;
  codec: StorageCodec;
  historyLimit: number;
  hub: WatchHub;
  closed: boolean;
  leases: SqliteLeases | undefined;
  group: GroupCommit | undefined;
}

class SqliteStore implements Store {
  readonly leases: SqliteLeases;
  private readonly shared: Shared;
  private readonly db: DatabaseSync;
  private readonly tables: StoreTables;
  private readonly codec: StorageCodec;
  private readonly historyLimit: number;
  private readonly hub: WatchHub;
  private readonly fence: HeldLease | undefined;
  private readonly group: GroupCommit;

  constructor(shared: Shared, fence: HeldLease | undefined) {
    this.shared = shared;
    this.db = shared.db;
    this.tables = shared.tables;
    this.codec = shared.codec;
    this.historyLimit = shared.historyLimit;
    this.hub = shared.hub;
    this.fence = fence;
    shared.group ??= new GroupCommit({ ...shared, isClosed: () => shared.closed });
    this.group = shared.group;
    shared.leases ??= new SqliteLeases((work, options) => this.write(work, false, options?.durable ?? true), shared.tables, shared.codec);
    this.leases = shared.leases;
  }

  fenced(lease: HeldLease): Store {
    return new SqliteStore(this.shared, lease);
  }

  private get closed(): boolean {
    return this.shared.closed;
  }

  get<T extends Resource = Resource>(ref: ObjectRef): Promise<T | undefined> {
    return settle(() => {
      this.ensureOpen();
      return loadObject(this.tables, this.codec, keyOf(ref)) as T | undefined;
    });
  }

  list<T extends Resource = Resource>(kind: string, options: ListOptions = {}): Promise<ListResult<T>> {
    return settle(() => this.listNow<T>(kind, options));
  }

  private listNow<T extends Resource>(kind: string, options: ListOptions): ListResult<T> {
    this.ensureOpen();
    const selector = parseLabelSelector(options.labelSelector ?? "");
    const namespace = kindInfo(kind).namespaced ? options.namespace : undefined;
    const filter: WatchFilter = { kind, namespace, selector };
    const items = this.tables
      .listObjects(kind, namespace)
      .map((json) => this.decodeListed(JSON.parse(json) as Resource))
      .filter((object) => matchesFilter(filter, object));
    return { items: items as T[], resourceVersion: String(this.tables.resourceVersion()) };
  }

  create<T extends Resource>(object: T, options: WriteOptions = {}): Promise<T> {
    return settle(() => this.createNow(object, options.dryRun === true)) as Promise<T>;
  }

  private createNow(object: Resource, dryRun: boolean): Promise<Resource> {
    this.ensureOpen();
    const input = jsonCopy(object);
    keyOfObject(input); // a bad name or namespace is refused before the write is queued
    return this.write((writer) => writer.put("ADDED", prepareCreate(input, randomUUID(), now())), dryRun);
  }

  update<T extends Resource>(object: T, options: WriteOptions = {}): Promise<T> {
    return settle(() => this.modify(object, mergeUpdate, options)) as Promise<T>;
  }

  updateStatus<T extends Resource>(object: T, options: WriteOptions = {}): Promise<T> {
    return settle(() => this.modify(object, mergeStatus, options)) as Promise<T>;
  }

  delete<T extends Resource = Resource>(ref: ObjectRef, options: DeleteOptions = {}): Promise<T | undefined> {
    return settle(() => this.deleteNow(ref, options)) as Promise<T>;
  }

  private deleteNow(ref: ObjectRef, options: DeleteOptions): Promise<Resource> {
    this.ensureOpen();
    const key = keyOf(ref);
    return this.write((writer) => {
      const existing = this.mustLoad(key);
      checkDeletePreconditions(existing, options, key);
      return hasFinalizers(existing) ? writer.markDeleted(existing) : writer.remove(existing);
    }, options.dryRun === true);
  }

  watch(options: WatchOptions, onEvent: (event: WatchEvent) => void): Watch {
    this.ensureOpen();
    const from = parseResourceVersion(options.resourceVersion);
    const filter: WatchFilter = {
      kind: options.kind === undefined ? undefined : kindInfo(options.kind).kind,
      namespace: options.namespace,
      selector: parseLabelSelector(options.labelSelector ?? ""),
    };
    // Backlog read and registration happen in one synchronous step, so no write can fall between them.
    return this.hub.add(filter, onEvent, from === 0 ? [] : this.backlog(from, filter));
  }

  purgeStaleHistory(): Promise<StaleHistoryPurge> {
    return settle(() => {
      this.ensureOpen();
      const purged = this.guard(() =>
        this.tables.transaction(() => {
          const newest = this.tables.newestChangeWhere((json) => this.isStale(JSON.parse(json) as Resource));
          return newest === undefined ? 0 : this.tables.compactThrough(newest);
        }),
      );
      return { purged, compactedThrough: String(this.tables.compactedThrough()) };
    });
  }

  scrubDeletedData(): Promise<void> {
    return settle(() => {
      this.ensureOpen();
      this.guard(() => scrubDatabase(this.db, "object store"));
    });
  }

  close(): void {
    // A fenced view shares the file of the store it came from; only that store closes it.
    if (this.closed || this.fence !== undefined) return;
    this.shared.closed = true;
    this.hub.stopAll();
    this.db.close();
  }

  private modify(object: Resource, merge: (existing: Resource, incoming: Resource, key: ObjectKey) => MergedUpdate, options: WriteOptions): Promise<Resource> {
    this.ensureOpen();
    const incoming = jsonCopy(object);
    const key = keyOfObject(incoming);
    return this.write((writer) => {
      const stored = this.mustLoadStored(key);
      const existing = this.codec.decode(stored);
      const merged = merge(existing, incoming, key);
      // Unchanged objects are not written again, except to replace a stale stored form (an old encryption key).
      if (!merged.changed && !this.isStale(stored)) return existing;
      // The last finalizer of a terminating object is gone: the deletion completes now.
      if (merged.object.metadata.deletionTimestamp !== undefined && !hasFinalizers(merged.object)) return writer.remove(merged.object);
      return writer.put("MODIFIED", merged.object, existing);
    }, options.dryRun === true, options.durable !== false);
  }

  private backlog(from: number, filter: WatchFilter): Change[] {
    const compacted = this.tables.compactedThrough();
    if (from < compacted) throw tooOldResourceVersion(from, compacted);
    return this.tables.changesAfter(from, filter).map((row) => ({
      resourceVersion: row.resource_version,
      type: row.type as Change["type"],
      object: this.decodeListed(JSON.parse(row.object) as Resource),
    }));
  }

  /** Deletion needs only the metadata, so an object that no longer decodes can still be deleted. */
  private mustLoad(key: ObjectKey): Resource {
    return this.decodeListed(this.mustLoadStored(key));
  }

  /** Decode for a list, a watch or a delete: an object the codec refuses is shown as the codec marks it. */
  private decodeListed(stored: Resource): Resource {
    return decodeListed(this.codec, stored);
  }

  private isStale(stored: Resource): boolean {
    return this.codec.isStale?.(stored) === true;
  }

  /** The object as stored (encoded). */
  private mustLoadStored(key: ObjectKey): Resource {
    const existing = loadStored(this.tables, key);
    if (existing === undefined) {
      throw new NotFoundError(`${describeKey(key)} not found; check the name and namespace`, { subject: { kind: key.kind, name: key.name } });
    }
    return existing;
  }

  /**
   * One write in the next group commit (its own savepoint in a shared transaction): its changes are published only
   * after the commit, and it resolves to a copy callers may keep. A dry run does all of it, then rolls it back and
   * tells no watch. A fenced view checks its lease inside it.
   */
  private write<T>(work: (writer: Writer) => T, dryRun = false, durable = true): Promise<T> {
    const fence = this.fence;
    return this.group.submit(
      (writer) => {
        if (fence !== undefined) checkFence(this.tables, this.codec, fence);
        return work(writer);
      },
      dryRun,
      durable,
    );
  }

  private guard<T>(work: () => T): T {
    try {
      return work();
    } catch (error) {
      if (error instanceof HoldfastError) throw error;
      throw new UnavailableError(`the store could not complete the write; retry (${error instanceof Error ? error.message : String(error)})`, {
        cause: error,
      });
    }
  }

  private ensureOpen(): void {
    if (this.closed) throw new UnavailableError("the store is closed; open it again");
  }
}

/** Run work as a promise: a throw becomes a rejection, never an exception in the caller's frame. */
function settle<T>(work: () => T | Promise<T>): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}
