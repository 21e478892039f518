/** The Store: Kubernetes object semantics over some backend (embedded sqlite now, the Kubernetes API later). */
import type { ObjectRef, Resource } from "../api/index.ts";

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

/** Options for delete. */
export interface DeleteOptions {
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
 *   removes the object.
 * - `updateStatus` replaces only `status` (same concurrency rule); generation never changes.
 * - `delete` of an object with finalizers sets deletionTimestamp (once) and returns it; otherwise removes it.
 *   Removal cascades to dependents whose ownerReferences name the removed uid.
 * - resourceVersion is one monotonic counter across all kinds.
 */
export interface Store {
  get<T extends Resource = Resource>(ref: ObjectRef): Promise<T | undefined>;
  list<T extends Resource = Resource>(kind: string, options?: ListOptions): Promise<ListResult<T>>;
  create<T extends Resource>(object: T): Promise<T>;
  update<T extends Resource>(object: T): Promise<T>;
  updateStatus<T extends Resource>(object: T): Promise<T>;
  delete<T extends Resource = Resource>(ref: ObjectRef, options?: DeleteOptions): Promise<T | undefined>;
  watch(options: WatchOptions, onEvent: (event: WatchEvent) => void): Watch;
  close(): void;
}

/**
 * Turns an object into what is stored and back. The embedded store uses it to encrypt
 * Secret data at rest; the identity (kind/namespace/name) is passed for associated data.
 */
export interface StorageCodec {
  encode(object: Resource): Resource;
  decode(object: Resource): Resource;
}
