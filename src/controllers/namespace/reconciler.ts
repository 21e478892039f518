/** The namespace controller: namespaces are Active; a deleted namespace is emptied before it goes. */
import { allKinds, type Namespace } from "../../api/index.ts";
import { NotFoundError } from "../../errors/index.ts";
import type { Store } from "../../store/index.ts";
import type { ReconcileResult, Reconciler } from "../runtime/index.ts";

/** Held on every namespace until everything in it is gone (Kubernetes' own finalizer name). */
export const NAMESPACE_FINALIZER = "kubernetes";

export class NamespaceReconciler implements Reconciler {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  async reconcile(name: string): Promise<ReconcileResult | undefined> {
    const namespace = await this.#store.get<Namespace>({ kind: "Namespace", name });
    if (!namespace) return undefined;
    if (namespace.metadata.deletionTimestamp !== undefined) return this.#terminate(namespace);
    let live = namespace;
    if (!(live.metadata.finalizers ?? []).includes(NAMESPACE_FINALIZER)) {
      live = await this.#store.update<Namespace>({ ...live, metadata: { ...live.metadata, finalizers: [...(live.metadata.finalizers ?? []), NAMESPACE_FINALIZER] } });
    }
    if (live.status?.phase !== "Active") await this.#store.updateStatus<Namespace>({ ...live, status: { phase: "Active" } });
    return undefined;
  }

  async #terminate(namespace: Namespace): Promise<ReconcileResult | undefined> {
    let live = namespace;
    if (live.status?.phase !== "Terminating") live = await this.#store.updateStatus<Namespace>({ ...live, status: { phase: "Terminating" } });
    let remaining = 0;
    for (const kind of allKinds().filter((k) => k.namespaced)) {
      const objects = await this.#store.list(kind.kind, { namespace: live.metadata.name });
      remaining += objects.items.length;
      for (const object of objects.items) {
        if (object.metadata.deletionTimestamp !== undefined) continue;
        try {
          await this.#store.delete({ kind: kind.kind, namespace: live.metadata.name, name: object.metadata.name });
        } catch (error) {
          // Something may refuse deletion (DoNotTerminate is enforced at the API, not here); keep trying the rest.
          if (!(error instanceof NotFoundError)) remaining++;
        }
      }
    }
    if (remaining > 0) return { requeueAfterMs: 1000 };
    await this.#store.update<Namespace>({ ...live, metadata: { ...live.metadata, finalizers: (live.metadata.finalizers ?? []).filter((f) => f !== NAMESPACE_FINALIZER) } });
    return undefined;
  }
}
