/** Adding and removing a finalizer: the object as stored, written only when it changes. */
import type { Resource } from "../../api/index.ts";
import type { Store } from "../../store/index.ts";

/** `object` holding `finalizer`, added (and stored) if it did not yet. */
export async function withFinalizer<T extends Resource>(store: Store, object: T, finalizer: string): Promise<T> {
  const finalizers = object.metadata.finalizers ?? [];
  if (finalizers.includes(finalizer)) return object;
  return store.update<T>({ ...object, metadata: { ...object.metadata, finalizers: [...finalizers, finalizer] } });
}

/** `object` without `finalizer`, removed (and stored) if it held it: the store deletes an object being deleted once none is left. */
export async function withoutFinalizer<T extends Resource>(store: Store, object: T, finalizer: string): Promise<T> {
  const finalizers = object.metadata.finalizers ?? [];
  if (!finalizers.includes(finalizer)) return object;
  return store.update<T>({ ...object, metadata: { ...object.metadata, finalizers: finalizers.filter((f) => f !== finalizer) } });
}
