/**
 * One handler per OpsRequest type behind one interface: the reconciler runs the state machine (queue, pre-checks,
 * timeouts, cancel, status) and dispatches to the handler of the request's type from a table, knowing no engine.
 */
import type { Cluster, Instance, OpsRequest } from "../../api/index.ts";
import type { Store } from "../../store/index.ts";
import { LABEL_INSTANCE, type EngineLookup } from "../cluster/index.ts";
import type { EventRecorder } from "../runtime/index.ts";
import type { OpsProgress } from "./progress.ts";

/** What every handler may use. */
export interface OpsServices {
  store: Store;
  events: EventRecorder;
  engines: EngineLookup;
}

/** The outcome of starting or cancelling: the request and cluster as they are now, or why it cannot be done. */
export type OpsStep = { ops: OpsRequest; cluster: Cluster } | { failure: string };

/** Carries out one OpsRequest type. Each method may be called again after a crash: it must be safe to repeat. */
export interface OpsHandler {
  /** The cluster phases it can start from (its pre-check); absent: any. */
  readonly startsFrom?: readonly string[];
  /** Create the cluster the operation acts on, when it makes one (Restore); called while that cluster does not exist. */
  prepare?(ops: OpsRequest): Promise<Cluster | { failure: string }>;
  /** Check the request, record what it changes (`status.lastConfiguration`) and apply the change. */
  begin(ops: OpsRequest, cluster: Cluster): Promise<OpsStep>;
  /** How far it has come; it may act further (a switchover first, then the change). */
  follow(ops: OpsRequest, cluster: Cluster, instances: readonly Instance[]): Promise<OpsProgress>;
  /** Stop it, leaving the cluster consistent (absent: it cannot be cancelled). */
  cancel?(ops: OpsRequest, cluster: Cluster): Promise<OpsStep>;
  /** How far the cancel has come; absent: `follow` judges the way back too. */
  followCancel?(ops: OpsRequest, cluster: Cluster, instances: readonly Instance[]): Promise<OpsProgress>;
}

/** The instances of the cluster, by label. */
export async function clusterInstances(store: Store, cluster: Cluster): Promise<Instance[]> {
  const listed = await store.list<Instance>("Instance", { namespace: cluster.metadata.namespace ?? "default", labelSelector: `${LABEL_INSTANCE}=${cluster.metadata.name}` });
  return listed.items;
}
