/** Read-modify-write of one object that retries on a conflict (another controller wrote it first). */
import type { ObjectRef, Resource } from "../../api/index.ts";
import { ConflictError } from "../../errors/index.ts";
import type { Store } from "../../store/index.ts";

const ATTEMPTS = 8;

/**
 * Apply `change` to the latest `ref` and write it with `update` or `updateStatus`; `change` returns undefined
 * for "nothing to do". Resolves with the written (or unchanged) object; undefined when it no longer exists.
 */
export async function patchObject<T extends Resource>(store: Store, ref: ObjectRef, change: (current: T) => T | undefined, subresource: "spec" | "status" = "spec"): Promise<T | undefined> {
  for (let attempt = 1; ; attempt++) {
    const current = await store.get<T>(ref);
    if (current === undefined) return undefined;
    const next = change(current);
    if (next === undefined) return current;
    try {
      return subresource === "status" ? await store.updateStatus<T>(next) : await store.update<T>(next);
    } catch (error) {
      if (!(error instanceof ConflictError) || attempt >= ATTEMPTS) throw error;
    }
  }
}

/** patchObject on the status subresource. */
export function patchStatus<T extends Resource>(store: Store, ref: ObjectRef, change: (current: T) => T | undefined): Promise<T | undefined> {
  return patchObject(store, ref, change, "status");
}
