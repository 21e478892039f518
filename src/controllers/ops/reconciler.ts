/** The OpsRequest controller: Start, Stop, Restart, Switchover and HorizontalScaling as a state machine in status (Pending → Running → Succeed/Failed). */
import { now, type Cluster, type Instance, type OpsRequest, type OpsRequestStatus } from "../../api/index.ts";
import type { Store } from "../../store/index.ts";
import { LABEL_INSTANCE, restartAnnotation, type EngineLookup } from "../cluster/index.ts";
import { setCondition, splitKey, type EventRecorder, type ReconcileResult, type Reconciler } from "../runtime/index.ts";
import { HorizontalScaling } from "./horizontal-scaling.ts";
import { opsProgress, restartToken, targetComponents } from "./progress.ts";
import { planSwitchover, switchoverRecord, switchoverRecorded } from "./switchover.ts";

const POLL_MS = 1000;
/** How long an OpsRequest without `timeoutSeconds` (or with 0) may run before it fails, so one that cannot progress never blocks the cluster's later ones. */
export const DEFAULT_OPS_TIMEOUT_SECONDS = 1800;
const TERMINAL = new Set(["Succeed", "Failed", "Cancelled", "Aborted"]);

export interface OpsReconcilerOptions {
  store: Store;
  events: EventRecorder;
  /** The engines, for the replica bounds of their topologies. */
  engines: EngineLookup;
}

export class OpsRequestReconciler implements Reconciler {
  readonly #store: Store;
  readonly #events: EventRecorder;
  readonly #scaling: HorizontalScaling;

  constructor(options: OpsReconcilerOptions) {
    this.#store = options.store;
    this.#events = options.events;
    this.#scaling = new HorizontalScaling(options);
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const { namespace = "default", name } = splitKey(key);
    const ops = await this.#store.get<OpsRequest>({ kind: "OpsRequest", namespace, name });
    if (!ops || TERMINAL.has(ops.status?.phase ?? "")) return undefined;
    const cluster = await this.#store.get<Cluster>({ kind: "Cluster", namespace, name: ops.spec.clusterName });
    if (!cluster) return this.#finish(ops, "Failed", `cluster ${ops.spec.clusterName} not found in namespace ${namespace}`);
    if (ops.status?.phase === "Running") return this.#follow(ops, cluster);
    const blocker = await this.#earlierRunningOps(ops);
    if (blocker) {
      const message = `waiting for OpsRequest ${blocker} on the same cluster to finish`;
      if (ops.status?.message !== message) await this.#setStatus(ops, { phase: "Pending", message });
      return { requeueAfterMs: POLL_MS };
    }
    return this.#begin(ops, cluster);
  }

  async #earlierRunningOps(ops: OpsRequest): Promise<string | undefined> {
    const all = await this.#store.list<OpsRequest>("OpsRequest", { namespace: ops.metadata.namespace ?? "default" });
    return all.items.find((o) => o.spec.clusterName === ops.spec.clusterName && o.metadata.name !== ops.metadata.name && o.status?.phase === "Running")?.metadata.name;
  }

  async #begin(ops: OpsRequest, cluster: Cluster): Promise<ReconcileResult | undefined> {
    if (ops.spec.type === "Switchover" && !switchoverRecorded(ops, cluster)) {
      const failure = await this.#requestSwitchover(ops, cluster);
      if (failure !== undefined) return this.#finish(ops, "Failed", failure);
    }
    let updated: Cluster;
    if (ops.spec.type === "HorizontalScaling") {
      const begun = await this.#scaling.begin(ops, cluster);
      if ("failure" in begun) return this.#finish(ops, "Failed", begun.failure);
      ({ ops, cluster: updated } = begun);
    } else {
      // A switchover changes no spec: the cluster as read carries the generation to follow.
      updated = ops.spec.type === "Switchover" ? cluster : await this.#store.update<Cluster>(applyOperation(ops, cluster));
    }
    await this.#events.record(ops, "Normal", "OpsRequestStarted", `${ops.spec.type} of cluster ${cluster.metadata.name} started`);
    await this.#setStatus(ops, {
      phase: "Running",
      startTimestamp: now(),
      clusterGeneration: updated.metadata.generation ?? 0,
      progress: "0/?",
      conditions: setCondition(ops.status?.conditions, { type: "Progressing", status: "True", reason: "OpsRequestProgressing", message: `${ops.spec.type} is in progress` }),
    });
    return { requeueAfterMs: POLL_MS };
  }

  /** Record the switchover's target primary in the cluster's status, for the ha controller; a reason when it cannot be done. */
  async #requestSwitchover(ops: OpsRequest, cluster: Cluster): Promise<string | undefined> {
    const instances = await this.#store.list<Instance>("Instance", { namespace: cluster.metadata.namespace ?? "default", labelSelector: `${LABEL_INSTANCE}=${cluster.metadata.name}` });
    const planned = planSwitchover(ops, cluster, instances.items);
    if ("failure" in planned) return planned.failure;
    const replication = { ...cluster.status?.replication };
    for (const plan of planned.plans) replication[plan.component] = switchoverRecord(replication[plan.component], plan, ops, now());
    // Written against the cluster as read: a failover decided meanwhile makes this conflict, and the next pass plans again.
    await this.#store.updateStatus<Cluster>({ ...cluster, status: { ...cluster.status, replication } });
    const summary = planned.plans.map((p) => `${p.component}: ${p.from} → ${p.to}`).join(", ");
    await this.#events.record(ops, "Normal", "SwitchoverRequested", `switching over ${summary}`);
    return undefined;
  }

  async #follow(ops: OpsRequest, cluster: Cluster): Promise<ReconcileResult | undefined> {
    const instances = await this.#store.list<Instance>("Instance", { namespace: cluster.metadata.namespace ?? "default", labelSelector: `${LABEL_INSTANCE}=${cluster.metadata.name}` });
    const progress = ops.spec.type === "HorizontalScaling" ? await this.#scaling.advance(ops, cluster, instances.items) : opsProgress(ops, cluster, instances.items);
    const summary = `${progress.done}/${progress.total}`;
    if (progress.failure !== undefined) return this.#finish(ops, "Failed", progress.failure, summary);
    if (progress.finished) return this.#finish(ops, "Succeed", `${ops.spec.type} of cluster ${cluster.metadata.name} succeeded`, summary);
    if (timedOut(ops)) return this.#finish(ops, "Failed", timeoutMessage(ops, summary, progress.waitingFor), summary);
    if (ops.status?.progress !== summary) await this.#setStatus(ops, { progress: summary });
    return { requeueAfterMs: POLL_MS };
  }

  async #finish(ops: OpsRequest, phase: "Succeed" | "Failed", message: string, progress?: string): Promise<undefined> {
    const succeeded = phase === "Succeed";
    const updated = await this.#setStatus(ops, {
      phase,
      message,
      completionTimestamp: now(),
      ...(progress === undefined ? {} : { progress }),
      conditions: setCondition(ops.status?.conditions, { type: succeeded ? "Succeed" : "Failed", status: "True", reason: succeeded ? "OpsRequestProcessedSuccessfully" : "OpsRequestFailed", message }),
    });
    await this.#events.record(updated, succeeded ? "Normal" : "Warning", succeeded ? "OpsRequestSucceed" : "OpsRequestFailed", message);
    return undefined;
  }

  async #setStatus(ops: OpsRequest, changes: Partial<OpsRequestStatus>): Promise<OpsRequest> {
    return this.#store.updateStatus<OpsRequest>({ ...ops, status: { ...ops.status, ...changes } });
  }
}

/** The cluster as the operation wants it: Start/Stop flip `stop`; Restart sets the restart annotation. */
export function applyOperation(ops: OpsRequest, cluster: Cluster): Cluster {
  const targets = new Set(targetComponents(ops, cluster));
  if (ops.spec.type === "Start" || ops.spec.type === "Stop") {
    const stop = ops.spec.type === "Stop";
    return { ...cluster, spec: { ...cluster.spec, componentSpecs: cluster.spec.componentSpecs.map((c) => (targets.has(c.name) ? { ...c, stop } : c)) } };
  }
  if (ops.spec.type === "Restart") {
    const annotations = { ...cluster.metadata.annotations };
    for (const component of targets) annotations[restartAnnotation(component)] = restartToken(ops);
    return { ...cluster, metadata: { ...cluster.metadata, annotations } };
  }
  return cluster;
}

/** The seconds an operation may run: its `timeoutSeconds`, else (absent or 0) the default. */
export function opsTimeoutSeconds(ops: OpsRequest): number {
  const limit = ops.spec.timeoutSeconds;
  return limit === undefined || limit === 0 ? DEFAULT_OPS_TIMEOUT_SECONDS : limit;
}

function timedOut(ops: OpsRequest): boolean {
  const started = ops.status?.startTimestamp;
  return started !== undefined && Date.now() - Date.parse(started) > opsTimeoutSeconds(ops) * 1000;
}

function timeoutMessage(ops: OpsRequest, summary: string, waitingFor: string | undefined): string {
  const limit = opsTimeoutSeconds(ops);
  const given = ops.spec.timeoutSeconds === undefined || ops.spec.timeoutSeconds === 0 ? ` (the default; set spec.timeoutSeconds to allow longer)` : "";
  const waiting = waitingFor === undefined ? "" : `; still waiting for ${waitingFor}`;
  return `${ops.spec.type} did not finish within ${limit}s${given}: ${summary} done${waiting}`;
}
