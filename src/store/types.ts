/** The Store: Kubernetes object semantics over some backend (embedded sqlite now, the Kubernetes API later). */
import type { ObjectRef, Resource } from "../api/index.ts";
import type { HeldLease, Leases } from "./leases.ts";

/** Filters for list and watch. */
export interface ListOptions {
  /** Restrict to one namespace; absent means all namespaces (or a cluster-scoped kind). */
  namespace?: string;
  /** A Kubernetes label selector string: `a=b,c!=d,e in (f,g),!h,i`. */
  labelSelector?: string;
}

/** The result of a list: the items and the store's resourceVersion at the time of the list. */
export interface ListResult<T extends Resource = Resource> {
  items: T[];
  resourceVersion: string;
}

/** Options for create, update and updateStatus. */
export interface WriteOptions {
  /**
   * Run every check and compute the result, then store nothing and notify no watch (Kubernetes' `dryRun=All`).
   * The answer is what the write would have returned.
   */
  dryRun?: boolean;
  /**
   * False: a write whose loss in a power cut is harmless because it is repeated every few seconds (a node's heartbeat).
   * The embedded store then commits it without the WAL's fsync (it survives a crash of the process, and the next
   * durable commit makes it durable); etcd ignores it. Default true. Honoured by update and updateStatus.
   */
  durable?: boolean;
}

/** Options for delete. */
export interface DeleteOptions {
  /** As WriteOptions.dryRun: what the delete would do, without doing it. */
  dryRun?: boolean;
  /** Refuse (409) unless the object's uid matches. */
  uid?: string;
  /** Refuse (409) unless the object's resourceVersion matches. */
  resourceVersion?: string;
}

/** One change seen by a watch. */
export interface WatchEvent<T extends Resource = Resource> {
  type: "ADDED" | "MODIFIED" | "DELETED";
  object: T;
}

/** Options for watch. */
export interface WatchOptions extends ListOptions {
  /** Which kind to watch; absent watches every kind. */
  kind?: string;
  /**
   * Deliver every change after this resourceVersion, then live changes.
   * Absent or "0": live changes only. Too old (compacted): the watch throws GoneError.
   */
  resourceVersion?: string;
}

/** A running watch. */
export interface Watch {
  stop(): void;
}

/**
 * The store contract, with Kubernetes semantics:
 * - `create` assigns uid, resourceVersion, generation 1, creationTimestamp; an existing name is AlreadyExistsError.
 * - `update` replaces metadata (labels, annotations, finalizers, ownerReferences) and every field except `status`.
 *   When `metadata.resourceVersion` is set and stale, it throws ConflictError. `generation` is bumped only when a
 *   field other than metadata and status changes. Removing the last finalizer of an object with a deletionTimestamp
 *   removes the object. An update that changes nothing is not written, unless the stored form is stale (see
 *   `StorageCodec.isStale`): then it is written again at a new resourceVersion, as Kubernetes does to migrate storage.
 * - `updateStatus` replaces only `status` (same concurrency rule); generation never changes.
 * - `delete` of an object with finalizers sets deletionTimestamp (once) and returns it; otherwise removes it.
 *   Removal cascades to dependents whose ownerReferences name the removed uid.
 * - resourceVersion is one monotonic counter across all kinds.
 */
export interface Store {
  /** Leadership leases, visible as `coordination.k8s.io/v1` Lease objects in namespace `holdfast-system`. */
  readonly leases: Leases;
  /**
   * A view of this store whose writes (create, update, updateStatus, delete, and the cascades they start) succeed only
   * while `lease` is still held by that acquisition, checked atomically with each write; otherwise they throw
   * LostLeaseError and write nothing. Reads and watches are the store's own. Closing a view closes nothing.
   */
  fenced(lease: HeldLease): Store;
  get<T extends Resource = Resource>(ref: ObjectRef): Promise<T | undefined>;
  list<T extends Resource = Resource>(kind: string, options?: ListOptions): Promise<ListResult<T>>;
  create<T extends Resource>(object: T, options?: WriteOptions): Promise<T>;
  update<T extends Resource>(object: T, options?: WriteOptions): Promise<T>;
  updateStatus<T extends Resource>(object: T, options?: WriteOptions): Promise<T>;
  delete<T extends Resource = Resource>(ref: ObjectRef, options?: DeleteOptions): Promise<T | undefined>;
  /**
   * Deliver changes to `onEvent`, asynchronously and in resourceVersion order. A resourceVersion that is already
   * compacted makes `watch` throw GoneError when the store can tell at once (the embedded store always can); otherwise
   * (etcd, or a compaction while the watch runs) the watch ends and `onError` gets the GoneError after the events
   * delivered so far: the watcher lists again and watches from the list's resourceVersion.
   */
  watch(options: WatchOptions, onEvent: (event: WatchEvent) => void, onError?: (error: Error) => void): Watch;
  /**
   * Drop the change history up to and including the newest change whose stored form is stale, so no stale form is
   * left in it; watches from an older resourceVersion then get GoneError and list again. Current objects are kept.
   */
  purgeStaleHistory(): Promise<StaleHistoryPurge>;
  /** Rewrite the store's files so deleted and superseded data no longer remains on disk in free pages or the log. */
  scrubDeletedData(): Promise<void>;
  close(): void;
}

/**
 * Turns an object into what is stored and back. The embedded store uses it to encrypt
 * Secret data at rest; the identity (kind/namespace/name) is passed for associated data. Both directions build new
 * objects (or return the input as it is) and never change their input: the stores hand it objects they still use.
 */
export interface StorageCodec {
  encode(object: Resource): Resource;
  decode(object: Resource): Resource;
  /**
   * Whether a stored form should be written again even when nothing in it changed (e.g. it was encrypted with a key
   * that is no longer the primary one). Absent: never stale.
   */
  isStale?(stored: Resource): boolean;
  /**
   * What a list or watch shows of a stored object that `decode` refused (a Secret that no longer decrypts), so one
   * damaged object does not make the whole kind unreadable; absent, the error stands. A get still fails with it.
   */
  unreadable?(stored: Resource, error: unknown): Resource | undefined;
}

/** Marks an object a list or watch could not decode (StorageCodec.unreadable); the value says why. */
export const UNREADABLE_ANNOTATION = "holdfast.io/unreadable";

/** What dropping stale change history did. */
export interface StaleHistoryPurge {
  /** How many change-history entries were dropped (of every kind: history is cut at one revision). */
  purged: number;
  /** Watches must now start at or after this resourceVersion; older ones get GoneError. */
  compactedThrough: string;
}
