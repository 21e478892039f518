/** The contract between the controller runtime and reconcilers. */
import type { Resource } from "../../api/index.ts";

/** What a reconcile asks for next. */
export interface ReconcileResult {
  /** Reconcile this key again after this many milliseconds, even without a change. */
  requeueAfterMs?: number;
}

/**
 * A level-triggered reconciler: given the key (`namespace/name`, or `name` for cluster-scoped kinds),
 * read the latest state and move it one step toward the desired state. Throwing backs the key off
 * exponentially with jitter.
 */
export interface Reconciler {
  reconcile(key: string): Promise<ReconcileResult | undefined>;
}

/** A kind a controller watches and how a change to one of its objects maps to keys to reconcile. */
export interface WatchSource {
  kind: string;
  /** Keys to enqueue; default is the object's own `namespace/name`. */
  keysFor?: (object: Resource) => string[];
}

/** The key of an object: `namespace/name`, or `name` when cluster-scoped. */
export function keyOf(object: Resource): string {
  const ns = object.metadata.namespace;
  return ns === undefined ? object.metadata.name : `${ns}/${object.metadata.name}`;
}

/** Split a key into namespace and name. */
export function splitKey(key: string): { namespace?: string; name: string } {
  const slash = key.indexOf("/");
  return slash === -1 ? { name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** Keys of the owners named in an object's ownerReferences of a given kind (same namespace). */
export function ownerKeys(kind: string): (object: Resource) => string[] {
  return (object) =>
    (object.metadata.ownerReferences ?? [])
      .filter((ref) => ref.kind === kind)
      .map((ref) => (object.metadata.namespace === undefined ? ref.name : `${object.metadata.namespace}/${ref.name}`));
}
