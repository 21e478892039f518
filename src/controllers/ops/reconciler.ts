/**
 * The OpsRequest controller: the state machine in status (Pending → Running → Succeed/Failed; Running → Cancelling →
 * Cancelled; Aborted by a forced request), the queue of one running request per cluster, the pre-check, timeouts and
 * progress. What a type does is its handler's (handlers.ts); this file knows no type's details and no engine.
 */
import { now, type Cluster, type OpsPhase, type OpsRequest, type OpsRequestStatus } from "../../api/index.ts";
import type { Store } from "../../store/index.ts";
import type { EngineLookup } from "../cluster/index.ts";
import { setCondition, splitKey, type EventRecorder, type ReconcileResult, type Reconciler } from "../runtime/index.ts";
import { clusterInstances, type OpsHandler } from "./handler.ts";
import { opsHandlers } from "./handlers.ts";
import type { OpsProgress } from "./progress.ts";
import { opsTimeoutSeconds } from "./timeout.ts";

export { DEFAULT_OPS_TIMEOUT_SECONDS, opsTimeoutSeconds } from "./timeout.ts";

const POLL_MS = 1000;
const TERMINAL = new Set(["Succeed", "Failed", "Cancelled", "Aborted"]);
const IN_FLIGHT = new Set(["Running", "Cancelling"]);
type Final = "Succeed" | "Failed" | "Cancelled" | "Aborted";

const FINAL_CONDITIONS: Record<Final, { reason: string; warning: boolean }> = {
  Succeed: { reason: "OpsRequestProcessedSuccessfully", warning: false },
  Failed: { reason: "OpsRequestFailed", warning: true },
  Cancelled: { reason: "OpsRequestCancelled", warning: false },
  Aborted: { reason: "OpsRequestAborted", warning: true },
};

export interface OpsReconcilerOptions {
  store: Store;
  events: EventRecorder;
  /** The engines, for the replica bounds of their topologies and the parameters of their components. */
  engines: EngineLookup;
}

export class OpsRequestReconciler implements Reconciler {
  readonly #store: Store;
  readonly #events: EventRecorder;
  readonly #handlers: ReadonlyMap<string, OpsHandler>;

  constructor(options: OpsReconcilerOptions) {
    this.#store = options.store;
    this.#events = options.events;
    this.#handlers = opsHandlers(options);
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const { namespace = "default", name } = splitKey(key);
    const ops = await this.#store.get<OpsRequest>({ kind: "OpsRequest", namespace, name });
    if (!ops || TERMINAL.has(ops.status?.phase ?? "")) return undefined;
    const handler = this.#handlers.get(ops.spec.type);
    if (handler === undefined) return this.#finish(ops, "Failed", `operation type ${ops.spec.type} is not supported by this build`);
    const cluster = await this.#cluster(ops, namespace, handler);
    if ("failure" in cluster) return this.#finish(ops, "Failed", cluster.failure);
    if (ops.spec.cancel === true && handler.cancel !== undefined) return this.#cancel(ops, cluster, handler, handler.cancel.bind(handler));
    if (ops.status?.phase === "Running") return this.#follow(ops, cluster, handler);
    const waiting = await this.#waiting(ops, cluster, handler);
    if (waiting !== undefined) return waiting;
    return this.#begin(ops, cluster, handler);
  }

  /** The request's cluster; one the handler makes (a Restore's) is made before the request starts. */
  async #cluster(ops: OpsRequest, namespace: string, handler: OpsHandler): Promise<Cluster | { failure: string }> {
    const cluster = await this.#store.get<Cluster>({ kind: "Cluster", namespace, name: ops.spec.clusterName });
    if (cluster !== undefined) return cluster;
    if (handler.prepare !== undefined && !IN_FLIGHT.has(ops.status?.phase ?? "")) return handler.prepare(ops);
    return { failure: `cluster ${ops.spec.clusterName} not found in namespace ${namespace}` };
  }

  /** A reason to wait (a request running on the cluster, a pre-check not met yet), or the end of the request; undefined: start. */
  async #waiting(ops: OpsRequest, cluster: Cluster, handler: OpsHandler): Promise<ReconcileResult | undefined> {
    const blockers = await this.#inFlight(ops);
    const forced = ops.spec.force === true;
    if (blockers.length > 0 && forced && ops.spec.enqueueOnForce !== true) {
      for (const blocker of blockers) await this.#finish(blocker, "Aborted", `aborted: the forced OpsRequest ${ops.metadata.name} took over cluster ${cluster.metadata.name}`);
    } else if (blockers.length > 0) {
      return this.#pending(ops, `waiting for OpsRequest ${blockers[0]?.metadata.name ?? ""} on the same cluster to finish`);
    }
    const deadline = ops.spec.preConditionDeadlineSeconds;
    const phase = cluster.status?.phase ?? "Creating";
    if (forced || deadline === undefined || handler.startsFrom === undefined || handler.startsFrom.includes(phase)) return undefined;
    const message = `cluster ${cluster.metadata.name} is ${phase}; ${ops.spec.type} starts from ${handler.startsFrom.join(" or ")}`;
    const created = Date.parse(ops.metadata.creationTimestamp ?? now());
    if (Date.now() - created >= deadline * 1000) return this.#finish(ops, "Failed", `pre-check not met within preConditionDeadlineSeconds (${deadline}s): ${message}`);
    return this.#pending(ops, `waiting up to ${deadline}s for the pre-check: ${message}`);
  }

  async #pending(ops: OpsRequest, message: string): Promise<ReconcileResult> {
    if (ops.status?.message !== message) await this.#setStatus(ops, { phase: "Pending", message });
    return { requeueAfterMs: POLL_MS };
  }

  async #inFlight(ops: OpsRequest): Promise<OpsRequest[]> {
    const all = await this.#store.list<OpsRequest>("OpsRequest", { namespace: ops.metadata.namespace ?? "default" });
    return all.items.filter((o) => o.spec.clusterName === ops.spec.clusterName && o.metadata.name !== ops.metadata.name && IN_FLIGHT.has(o.status?.phase ?? ""));
  }

  async #begin(ops: OpsRequest, cluster: Cluster, handler: OpsHandler): Promise<ReconcileResult | undefined> {
    const begun = await handler.begin(ops, cluster);
    if ("failure" in begun) return this.#finish(ops, "Failed", begun.failure);
    await this.#events.record(begun.ops, "Normal", "OpsRequestStarted", `${ops.spec.type} of cluster ${cluster.metadata.name} started`);
    await this.#setStatus(begun.ops, {
      phase: "Running",
      startTimestamp: now(),
      clusterGeneration: begun.cluster.metadata.generation ?? 0,
      progress: "0/?",
      conditions: setCondition(begun.ops.status?.conditions, { type: "Progressing", status: "True", reason: "OpsRequestProgressing", message: `${ops.spec.type} is in progress` }),
    });
    return { requeueAfterMs: POLL_MS };
  }

  async #follow(ops: OpsRequest, cluster: Cluster, handler: OpsHandler): Promise<ReconcileResult | undefined> {
    const progress = await handler.follow(ops, cluster, await clusterInstances(this.#store, cluster));
    const outcome = progress.outcome === undefined ? "" : `: ${progress.outcome}`;
    return this.#judge(ops, progress, "Succeed", `${ops.spec.type} of cluster ${cluster.metadata.name} succeeded${outcome}`);
  }

  /** Cancel: before it started it ends at once; running, the handler undoes it and the way back is followed (Cancelling). */
  async #cancel(ops: OpsRequest, cluster: Cluster, handler: OpsHandler, cancel: NonNullable<OpsHandler["cancel"]>): Promise<ReconcileResult | undefined> {
    const phase = ops.status?.phase;
    if (!IN_FLIGHT.has(phase ?? "")) return this.#finish(ops, "Cancelled", `${ops.spec.type} cancelled before it started`);
    if (phase === "Cancelling") {
      const follow = handler.followCancel?.bind(handler) ?? handler.follow.bind(handler);
      const progress = await follow(ops, cluster, await clusterInstances(this.#store, cluster));
      return this.#judge(ops, progress, "Cancelled", `${ops.spec.type} of cluster ${cluster.metadata.name} cancelled; the cluster is ${cluster.status?.phase ?? "?"}`);
    }
    const step = await cancel(ops, cluster);
    if ("failure" in step) return this.#finish(ops, "Failed", `cancel failed: ${step.failure}`);
    await this.#events.record(step.ops, "Normal", "OpsRequestCancelling", `cancelling ${ops.spec.type} of cluster ${cluster.metadata.name}`);
    await this.#setStatus(step.ops, {
      phase: "Cancelling",
      clusterGeneration: step.cluster.metadata.generation ?? 0,
      conditions: setCondition(step.ops.status?.conditions, { type: "Cancelling", status: "True", reason: "CancellingOpsRequest", message: `cancelling ${ops.spec.type}` }),
    });
    return { requeueAfterMs: POLL_MS };
  }

  /** The request's end when the progress says so (or its time is up), else the progress recorded and a look again soon. */
  async #judge(ops: OpsRequest, progress: OpsProgress, success: "Succeed" | "Cancelled", message: string): Promise<ReconcileResult | undefined> {
    const summary = `${progress.done}/${progress.total}`;
    const details = progress.details === undefined ? {} : { progressDetails: progress.details };
    if (progress.failure !== undefined) return this.#finish(ops, "Failed", progress.failure, { progress: summary, ...details });
    if (progress.finished) return this.#finish(ops, success, message, { progress: summary, ...details });
    if (timedOut(ops)) return this.#finish(ops, "Failed", timeoutMessage(ops, summary, progress.waitingFor), { progress: summary, ...details });
    const changed = ops.status?.progress !== summary || JSON.stringify(ops.status.progressDetails) !== JSON.stringify(progress.details);
    if (changed) await this.#setStatus(ops, { progress: summary, ...details });
    return { requeueAfterMs: POLL_MS };
  }

  async #finish(ops: OpsRequest, phase: Final, message: string, extra: Partial<OpsRequestStatus> = {}): Promise<undefined> {
    const { reason, warning } = FINAL_CONDITIONS[phase];
    const updated = await this.#setStatus(ops, {
      phase: phase satisfies OpsPhase,
      message,
      completionTimestamp: now(),
      ...extra,
      conditions: setCondition(ops.status?.conditions, { type: phase, status: "True", reason, message }),
    });
    await this.#events.record(updated, warning ? "Warning" : "Normal", `OpsRequest${phase}`, message);
    return undefined;
  }

  async #setStatus(ops: OpsRequest, changes: Partial<OpsRequestStatus>): Promise<OpsRequest> {
    return this.#store.updateStatus<OpsRequest>({ ...ops, status: { ...ops.status, ...changes } });
  }
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
