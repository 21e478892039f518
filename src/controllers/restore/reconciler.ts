/**
 * The Restore controller (dataprotection.kubeblocks.io/v1alpha1, ADR 0051): a Restore creates the new cluster its
 * annotation names from its backup (as a Restore OpsRequest does) and reports Running, then Completed once that cluster
 * is Running, or Failed with the reason. Deleting a Restore leaves the cluster.
 */
import { now, restoreKindRequest, type Cluster, type Restore, type RestoreStatus } from "../../api/index.ts";
import type { Store } from "../../store/index.ts";
import { setCondition, splitKey, type EventRecorder, type ReconcileResult, type Reconciler } from "../runtime/index.ts";
import { followRestore, startedRestore } from "./plan.ts";
import { createRestoredCluster } from "./restored-cluster.ts";

const POLL_MS = 2000;

export interface RestoreReconcilerOptions {
  store: Store;
  events: EventRecorder;
}

export class RestoreReconciler implements Reconciler {
  readonly #o: RestoreReconcilerOptions;

  constructor(options: RestoreReconcilerOptions) {
    this.#o = options;
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const { namespace = "default", name } = splitKey(key);
    const restore = await this.#o.store.get<Restore>({ kind: "Restore", namespace, name });
    const phase = restore?.status?.phase;
    if (restore === undefined || restore.metadata.deletionTimestamp !== undefined || phase === "Completed" || phase === "Failed") return undefined;
    const request = restoreKindRequest(restore);
    if (request === undefined) return this.#fail(restore, "the annotation holdfast.io/restore-to-cluster must name the cluster to create");
    return phase === undefined ? this.#start(restore, request) : this.#follow(restore, request);
  }

  /** Running: Completed or Failed once the cluster says so, else a look again soon. */
  async #follow(restore: Restore, request: NonNullable<ReturnType<typeof restoreKindRequest>>): Promise<ReconcileResult | undefined> {
    const cluster = await this.#o.store.get<Cluster>({ kind: "Cluster", namespace: request.namespace, name: request.clusterName });
    const next = followRestore(restore, request.labels, cluster, now());
    if (next === undefined) return { requeueAfterMs: POLL_MS };
    const message = next.actions?.prepareData?.[0]?.message ?? "";
    const completed = next.phase === "Completed";
    await this.#setStatus(restore, next, { status: completed ? "True" : "False", reason: completed ? "RestoreCompleted" : "RestoreFailed", message });
    await this.#o.events.record(restore, completed ? "Normal" : "Warning", completed ? "RestoreCompleted" : "RestoreFailed", `${request.clusterName}: ${message}`);
    return undefined;
  }

  async #start(restore: Restore, request: NonNullable<ReturnType<typeof restoreKindRequest>>): Promise<ReconcileResult | undefined> {
    const made = await createRestoredCluster(this.#o.store, request);
    if ("failure" in made) return this.#fail(restore, made.failure);
    const message = `restoring backup ${request.backupName} into cluster ${request.clusterName}`;
    await this.#setStatus(restore, startedRestore(restore, request.clusterName, now()), { status: "True", reason: "ValidateSuccessfully", message }, "ValidationPassed");
    if (made.created) await this.#o.events.record(restore, "Normal", "ClusterCreated", message);
    return { requeueAfterMs: POLL_MS };
  }

  /** Failed before it started: KubeBlocks' ValidationPassed condition says why. */
  async #fail(restore: Restore, message: string): Promise<undefined> {
    const at = now();
    await this.#setStatus(restore, { ...restore.status, phase: "Failed", completionTimestamp: at }, { status: "False", reason: "ValidateFailed", message }, "ValidationPassed");
    await this.#o.events.record(restore, "Warning", "RestoreFailed", message);
    return undefined;
  }

  async #setStatus(restore: Restore, status: RestoreStatus, condition: { status: "True" | "False"; reason: string; message: string }, type = "PrepareData"): Promise<void> {
    const conditions = setCondition(restore.status?.conditions, { type, ...condition });
    await this.#o.store.updateStatus<Restore>({ ...restore, status: { ...status, conditions } });
  }
}
