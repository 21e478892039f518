/** The etcd store: Kubernetes object semantics over etcd v3, resourceVersion = etcd's revision. */
import { randomUUID } from "node:crypto";
import { now, type ObjectRef, type Resource } from "../../api/index.ts";
import { ConflictError, NotFoundError, UnavailableError } from "../../errors/index.ts";
import { parseLabelSelector } from "../label-selector.ts";
import type { HeldLease, Leases } from "../leases.ts";
import {
  alreadyExists,
  checkDeletePreconditions,
  IDENTITY_CODEC,
  tooOldResourceVersion,
  describeKey,
  hasFinalizers,
  isTerminating,
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
import type { DeleteOptions, ListOptions, ListResult, StaleHistoryPurge, StorageCodec, Store, Watch, WatchEvent, WatchOptions, WriteOptions } from "../types.ts";
import { matchesFilter, WatchHub, type WatchErrorHandler, type WatchFilter } from "../watch-hub.ts";
import { EtcdClient, type EtcdClientOptions, type TxnOp } from "./client.ts";
import { EtcdLeases } from "./etcd-leases.ts";
import { GarbageCollector, type Removal } from "./garbage-collector.ts";
import { HistoryKeeper } from "./history.ts";
import { DEFAULT_ETCD_PREFIX, KeyLayout } from "./layout.ts";
import { StoredObjects } from "./stored-object.ts";
import { absent, Transactions, unchangedSince, type Fence, type Revisions } from "./transactions.ts";
import { watchRange, type EtcdWatch } from "./watch-stream.ts";
import type { KeyValue } from "./wire.ts";

/** How to open the etcd store. */
export interface EtcdStoreOptions extends Partial<EtcdClientOptions> {
  /** A client to use (shared with the authentication backend and the keyring); the store then never closes it. */
  client?: EtcdClient;
  /** Every key goes under this prefix (default `/holdfast/`). */
  prefix?: string;
  /** Applied to every object on its way to etcd and back (Secret encryption). */
  codec?: StorageCodec;
  /** Told when a watch callback throws or background work (cascade, compaction) fails; the store carries on. */
  onWatchError?: WatchErrorHandler;
  /** Compact history older than this, every this often (default 5 minutes, as kube-apiserver); 0 never. */
  compactionIntervalMs?: number;
}

const ATTEMPTS = 10;
const PAGE = 500;

/** The parts a store and its fenced views share. */
interface Shared {
  client: EtcdClient;
  /** Whether the store made the client (and so closes it). */
  owned: boolean;
  layout: KeyLayout;
  objects: StoredObjects;
  hub: WatchHub;
  revisions: Revisions;
  onError: WatchErrorHandler;
  history: HistoryKeeper;
  leases: EtcdLeases;
  /** Running etcd watches, cancelled when the store closes. */
  streams: Set<EtcdWatch>;
  closed: boolean;
}

/** Open the etcd store: checks that etcd answers, then finishes any cascade left half-done. */
export async function openEtcdStore(options: EtcdStoreOptions): Promise<Store> {
  const owned = options.client === undefined;
  const client = options.client ?? new EtcdClient({ ...options, endpoints: options.endpoints ?? [] });
  try {
    const status = await client.status();
    const layout = new KeyLayout(options.prefix ?? DEFAULT_ETCD_PREFIX);
    const revisions: Revisions = { latest: status.revision, compacted: 0 };
    const onError = options.onWatchError ?? (() => undefined);
    const history = new HistoryKeeper(client, layout, revisions, onError);
    await history.load();
    const objects = new StoredObjects(options.codec ?? IDENTITY_CODEC);
    const leases = new EtcdLeases(client, layout, revisions, objects);
    leases.observe();
    const shared: Shared = { client, owned, layout, objects, hub: new WatchHub(onError), revisions, onError, history, leases, streams: new Set(), closed: false };
    const store = new EtcdStore(shared, undefined);
    store.sweep();
    history.startCompaction(options.compactionIntervalMs ?? 5 * 60_000);
    return store;
  } catch (error) {
    if (owned) await client.close();
    throw error;
  }
}

class EtcdStore implements Store {
  readonly leases: Leases;
  private readonly shared: Shared;
  private readonly txns: Transactions;
  private readonly collector: GarbageCollector;
  private readonly removal: Removal;
  private readonly view: boolean;

  constructor(shared: Shared, fence: Fence | undefined) {
    this.shared = shared;
    this.leases = shared.leases;
    this.view = fence !== undefined;
    this.txns = new Transactions(shared.client, shared.layout, shared.revisions, fence);
    this.collector = new GarbageCollector(shared.client, shared.layout, shared.objects, this.txns);
    this.removal = { remove: (kv, object, extra) => this.remove(kv, object, false, extra), markDeleted: (kv, object, extra) => this.markDeleted(kv, object, false, extra) };
  }

  fenced(lease: HeldLease): Store {
    return new EtcdStore(this.shared, { name: lease.name, key: this.shared.leases.keyOf(lease.name), token: lease.token });
  }

  async get<T extends Resource = Resource>(ref: ObjectRef): Promise<T | undefined> {
    this.ensureOpen();
    const kv = await this.txns.read(this.shared.layout.object(keyOf(ref)));
    return kv === undefined ? undefined : (this.shared.objects.decode(kv) as T);
  }

  async list<T extends Resource = Resource>(kind: string, options: ListOptions = {}): Promise<ListResult<T>> {
    this.ensureOpen();
    const selector = parseLabelSelector(options.labelSelector ?? "");
    const namespace = kindInfo(kind).namespaced ? options.namespace : undefined;
    const { kvs, revision } = await this.rangeAll(this.shared.layout.kind(kind, namespace));
    const filter: WatchFilter = { kind, namespace, selector };
    const items = kvs.map((kv) => this.shared.objects.decodeListed(kv)).filter((object) => matchesFilter(filter, object));
    return { items: items as T[], resourceVersion: String(revision) };
  }

  async create<T extends Resource>(object: T, options: WriteOptions = {}): Promise<T> {
    this.ensureOpen();
    const input = jsonCopy(object);
    const key = keyOfObject(input);
    const path = this.shared.layout.object(key);
    const prepared = prepareCreate(input, randomUUID(), now());
    const value = this.shared.objects.encode(prepared);
    if (options.dryRun === true) {
      if ((await this.txns.read(path)) !== undefined) throw alreadyExists(key);
      return this.shared.objects.afterWrite(value, this.shared.revisions.latest + 1) as T;
    }
    const ops: TxnOp[] = [{ put: { key: path, value } }, ...this.txns.ownerIndexOps(key, undefined, prepared)];
    const result = await this.txns.commit([absent(path)], ops);
    if (!result.succeeded) throw alreadyExists(key);
    return this.shared.objects.afterWrite(value, result.revision) as T;
  }

  update<T extends Resource>(object: T, options: WriteOptions = {}): Promise<T> {
    return this.modify(object, mergeUpdate, options.dryRun === true) as Promise<T>;
  }

  updateStatus<T extends Resource>(object: T, options: WriteOptions = {}): Promise<T> {
    return this.modify(object, mergeStatus, options.dryRun === true) as Promise<T>;
  }

  async delete<T extends Resource = Resource>(ref: ObjectRef, options: DeleteOptions = {}): Promise<T | undefined> {
    this.ensureOpen();
    const key = keyOf(ref);
    const dryRun = options.dryRun === true;
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const kv = await this.mustRead(key);
      const existing = this.shared.objects.decodeListed(kv);
      checkDeletePreconditions(existing, options, key);
      if (hasFinalizers(existing) && isTerminating(existing)) return existing as T;
      const done = hasFinalizers(existing) ? await this.markDeleted(kv, existing, dryRun) : await this.remove(kv, existing, dryRun);
      if (done !== undefined) return done as T;
    }
    throw tooBusy(key);
  }

  watch(options: WatchOptions, onEvent: (event: WatchEvent) => void, onError?: (error: Error) => void): Watch {
    this.ensureOpen();
    const from = parseResourceVersion(options.resourceVersion);
    const kind = options.kind === undefined ? undefined : kindInfo(options.kind);
    const filter: WatchFilter = { kind: kind?.kind, namespace: options.namespace, selector: parseLabelSelector(options.labelSelector ?? "") };
    const compacted = this.shared.revisions.compacted;
    if (from !== 0 && from < compacted) throw tooOldResourceVersion(from, compacted);
    const prefix = kind === undefined ? this.shared.layout.registry() : this.shared.layout.kind(kind.kind, kind.namespaced ? options.namespace : undefined);
    const watcher = this.shared.hub.add(filter, onEvent, []);
    // Live-only watches start after the newest revision this process has seen, so a write made after this call is seen.
    const start = (from === 0 ? this.shared.revisions.latest : from) + 1;
    const stream = watchRange(this.shared.client, { key: prefix, prefix: true }, start, {
      onEvents: (events) => {
        for (const event of events) {
          const change = this.shared.history.toChange(event, this.shared.objects);
          if (change !== undefined) watcher.enqueue(change);
        }
      },
      onError: (error) => {
        this.shared.history.noteGone(error);
        watcher.end(() => (onError ?? this.shared.onError)(error));
      },
    });
    this.shared.streams.add(stream);
    return {
      stop: () => {
        stream.cancel();
        this.shared.streams.delete(stream);
        watcher.stop();
      },
    };
  }

  purgeStaleHistory(): Promise<StaleHistoryPurge> {
    this.ensureOpen();
    return this.shared.history.purgeStale(this.shared.objects);
  }

  async scrubDeletedData(): Promise<void> {
    this.ensureOpen();
    await this.shared.history.compactAll();
    await this.shared.client.defragment();
  }

  close(): void {
    // A fenced view shares the connection of the store it came from; only that store closes it.
    if (this.view || this.shared.closed) return;
    this.shared.closed = true;
    this.shared.history.stop();
    this.shared.leases.stop();
    this.shared.hub.stopAll();
    for (const stream of this.shared.streams) stream.cancel();
    this.shared.streams.clear();
    if (this.shared.owned) void this.shared.client.close();
  }

  /** Finish cascades left half-done (in the background: errors go to onWatchError). */
  sweep(): void {
    void this.collector.sweep(this.removal, this.shared.onError).catch(this.shared.onError);
  }

  private async modify(object: Resource, merge: (existing: Resource, incoming: Resource, key: ObjectKey) => MergedUpdate, dryRun: boolean): Promise<Resource> {
    this.ensureOpen();
    const incoming = jsonCopy(object);
    const key = keyOfObject(incoming);
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const kv = await this.mustRead(key);
      const existing = this.shared.objects.decode(kv);
      const merged = merge(existing, incoming, key);
      // Unchanged objects are not written again, except to replace a stale stored form (an old encryption key).
      if (!merged.changed && !this.shared.objects.isStale(kv)) return existing;
      // The last finalizer of a terminating object is gone: the deletion completes now.
      const terminal = isTerminating(merged.object) && !hasFinalizers(merged.object);
      const done = terminal ? await this.remove(kv, merged.object, dryRun) : await this.put(kv, existing, merged.object, dryRun);
      if (done !== undefined) return done;
    }
    throw tooBusy(key);
  }

  /** Replace the object at `kv` if it is unchanged since read; undefined when another writer came first. */
  private async put(kv: KeyValue, before: Resource, next: Resource, dryRun: boolean, extra: TxnOp[] = []): Promise<Resource | undefined> {
    const key = keyOfObject(next);
    const value = this.shared.objects.encode(next);
    if (dryRun) return this.shared.objects.afterWrite(value, this.shared.revisions.latest + 1);
    const ops: TxnOp[] = [{ put: { key: kv.key, value } }, ...this.txns.ownerIndexOps(key, before, next), ...extra];
    const result = await this.txns.commit([unchangedSince(kv.key, kv)], ops);
    return result.succeeded ? this.shared.objects.afterWrite(value, result.revision) : undefined;
  }

  private async markDeleted(kv: KeyValue, object: Resource, dryRun: boolean, extra: TxnOp[] = []): Promise<Resource | undefined> {
    const next = { ...object, metadata: { ...object.metadata, deletionTimestamp: now() } };
    return this.put(kv, object, next, dryRun, extra);
  }

  /** Remove the object at `kv` if unchanged, then collect its dependents; undefined when another writer came first. */
  private async remove(kv: KeyValue, object: Resource, dryRun: boolean, extra: TxnOp[] = []): Promise<Resource | undefined> {
    const key = keyOfObject(object);
    const removedAt = (revision: number): Resource => ({ ...object, metadata: { ...object.metadata, resourceVersion: String(revision) } });
    if (dryRun) return removedAt(this.shared.revisions.latest + 1);
    const uid = object.metadata.uid ?? "";
    const dependents = (await this.shared.client.range({ key: this.shared.layout.owners(uid), prefix: true, countOnly: true })).count;
    const marker: TxnOp[] = dependents > 0 ? [{ put: { key: this.shared.layout.garbageMarker(uid), value: JSON.stringify(key) } }] : [];
    const ops: TxnOp[] = [{ deleteRange: { key: kv.key } }, ...this.txns.ownerIndexOps(key, object, undefined), ...marker, ...extra];
    const result = await this.txns.commit([unchangedSince(kv.key, kv)], ops);
    if (!result.succeeded) return undefined;
    if (dependents > 0) await this.collector.collect(uid, this.removal);
    return removedAt(result.revision);
  }

  private async mustRead(key: ObjectKey): Promise<KeyValue> {
    this.ensureOpen();
    const kv = await this.txns.read(this.shared.layout.object(key));
    if (kv === undefined) throw new NotFoundError(`${describeKey(key)} not found; check the name and namespace`, { subject: { kind: key.kind, name: key.name } });
    return kv;
  }

  /** Every key under a prefix, in pages read at one revision (one consistent snapshot). */
  private async rangeAll(prefix: string): Promise<{ kvs: KeyValue[]; revision: number }> {
    const first = await this.shared.client.range({ key: prefix, prefix: true, limit: PAGE });
    this.txns.seen(first.revision);
    const kvs = [...first.kvs];
    let more = first.more;
    while (more) {
      const last = kvs.at(-1)?.key ?? prefix;
      const page = await this.shared.client.range({ key: `${last}\0`, endOfPrefix: prefix, limit: PAGE, revision: first.revision });
      kvs.push(...page.kvs);
      more = page.more;
    }
    return { kvs, revision: first.revision };
  }

  private ensureOpen(): void {
    if (this.shared.closed) throw new UnavailableError("the store is closed; open it again");
  }
}

function tooBusy(key: ObjectKey): ConflictError {
  return new ConflictError(`${describeKey(key)} is being changed by other writers; re-read it and retry`, { subject: { kind: key.kind, name: key.name } });
}
