/**
 * HorizontalScaling, carried out: record the starting replica counts, switch over first when a scale-in
 * would remove the primary, then change `replicas` on the Cluster. The cluster controller creates the new
 * instances (a replica is cloned from the primary) or deletes the highest ordinals (their data goes with
 * them); the ha controller drops the replication slots of removed replicas on the primary.
 */
import { clusterTopology, componentTopology, engineNameFor, now, type Cluster, type Instance, type OpsRequest } from "../../api/index.ts";
import type { Engine } from "../../engines/index.ts";
import type { Store } from "../../store/index.ts";
import type { EngineLookup } from "../cluster/index.ts";
import { horizontalScalingProgress, planHorizontalScaling, replicasApplied, scaleInSwitchovers, scalingSwitchover, startingReplicas, withReplicas, type ReplicaBounds, type ScalingPlan } from "./horizontal-scaling-plan.ts";
import type { OpsHandler, OpsServices, OpsStep } from "./handler.ts";
import type { OpsProgress } from "./progress.ts";
import { switchoverRecord, switchoverRecorded } from "./switchover.ts";

/** The engine of `component`, as the cluster names it. */
function engineOf(cluster: Cluster, component: string, engines: EngineLookup): Engine | undefined {
  const spec = cluster.spec.componentSpecs.find((c) => c.name === component);
  const engineName = spec === undefined ? undefined : engineNameFor(cluster, spec, engines.list().map((e) => e.name));
  return engineName === undefined ? undefined : engines.find(engineName);
}

/** The replica bounds of `component` from its engine's topology; undefined when the component or engine is unknown. */
export function componentBounds(cluster: Cluster, component: string, engines: EngineLookup): ReplicaBounds | undefined {
  const engine = engineOf(cluster, component, engines);
  const topology = engine === undefined ? undefined : clusterTopology(cluster, engine);
  const definition = engine === undefined ? undefined : componentTopology(cluster, engine, component);
  if (engine === undefined || topology === undefined || definition === undefined) return undefined;
  const replicaFollows = (state: string | undefined): boolean => engine.replication?.replicaFollows(state) ?? false;
  return { min: definition.minReplicas, max: definition.maxReplicas, replicated: definition.replicated === true, source: `${engine.name} topology ${topology.name}`, replicaFollows };
}

export class HorizontalScaling implements OpsHandler {
  readonly #store: Store;
  readonly #events: OpsServices["events"];
  readonly #engines: EngineLookup;

  constructor(options: OpsServices) {
    this.#store = options.store;
    this.#events = options.events;
    this.#engines = options.engines;
  }

  #plan(ops: OpsRequest, cluster: Cluster): { plans: ScalingPlan[] } | { failure: string } {
    return planHorizontalScaling(ops, cluster, (component) => componentBounds(cluster, component, this.#engines));
  }

  /** Start: the counts are checked and recorded, then a switchover is requested first or the new counts applied. */
  async begin(ops: OpsRequest, cluster: Cluster): Promise<OpsStep> {
    const planned = this.#plan(ops, cluster);
    if ("failure" in planned) return planned;
    const recorded = switchoverRecorded(ops, cluster);
    const needed = recorded ? { switchovers: [] } : scaleInSwitchovers(planned.plans, cluster, await this.#instances(cluster));
    if ("failure" in needed) return needed;
    // Recorded before anything changes: a start retried after a crash must not apply the changes twice.
    const live = ops.status?.lastConfiguration !== undefined ? ops : await this.#store.updateStatus<OpsRequest>({ ...ops, status: { ...ops.status, lastConfiguration: { components: startingReplicas(ops, cluster) } } });
    if (recorded) return { ops: live, cluster };
    if (needed.switchovers.length === 0) return { ops: live, cluster: await this.#apply(live, cluster, planned.plans) };
    const replication = { ...cluster.status?.replication };
    for (const plan of needed.switchovers) replication[plan.component] = switchoverRecord(replication[plan.component], plan, live, now());
    // Against the cluster as read: a failover decided meanwhile makes this conflict, and the next pass plans again.
    const updated = await this.#store.updateStatus<Cluster>({ ...cluster, status: { ...cluster.status, replication } });
    const summary = needed.switchovers.map((p) => `${p.component}: ${p.from} → ${p.to}`).join(", ");
    await this.#events.record(live, "Normal", "SwitchoverRequested", `the primary is among the instances to remove: switching over first (${summary})`);
    return { ops: live, cluster: updated };
  }

  /** Continue: once the switchovers asked for have succeeded the new counts are applied; then progress. */
  async follow(ops: OpsRequest, cluster: Cluster, instances: readonly Instance[]): Promise<OpsProgress> {
    const planned = this.#plan(ops, cluster);
    if ("failure" in planned) return { done: 0, total: 0, finished: false, failure: planned.failure };
    const switching = planned.plans.some((p) => scalingSwitchover(ops, cluster, p.component)?.result === "pending");
    const live = switching || replicasApplied(cluster, planned.plans) ? cluster : await this.#apply(ops, cluster, planned.plans);
    return horizontalScalingProgress(ops, live, instances, planned.plans);
  }

  async #apply(ops: OpsRequest, cluster: Cluster, plans: readonly ScalingPlan[]): Promise<Cluster> {
    if (replicasApplied(cluster, plans)) return cluster;
    const updated = await this.#store.update<Cluster>(withReplicas(cluster, plans));
    const summary = plans.map((p) => `${p.component}: ${p.from} → ${p.to}`).join(", ");
    await this.#events.record(ops, "Normal", "ReplicasChanged", `replicas ${summary}`);
    return updated;
  }

  async #instances(cluster: Cluster): Promise<Instance[]> {
    const namespace = cluster.metadata.namespace ?? "default";
    const owned = (i: Instance): boolean => (i.metadata.ownerReferences ?? []).some((o) => o.uid === cluster.metadata.uid);
    return (await this.#store.list<Instance>("Instance", { namespace })).items.filter((i) => i.spec.clusterName === cluster.metadata.name && owned(i));
  }
}
