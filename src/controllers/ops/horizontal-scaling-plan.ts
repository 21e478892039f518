/**
 * HorizontalScaling (pure): the new replica count of each listed component, checked against the bounds of its
 * topology; the switchover a scale-in needs first; and progress.
 *
 * Instances are numbered and a scale-in removes the highest ordinals, as a StatefulSet does. The primary is
 * never removed: when it is among the instances to go, the operation first switches over to the ready replica
 * with the least lag among those that stay, and scales in once the switchover has succeeded.
 */
import type { Cluster, HorizontalScalingSpec, Instance, OpsRequest } from "../../api/index.ts";
import type { OpsProgress } from "./progress.ts";
import { chooseSwitchoverCandidate, switchoverToken, type SwitchoverPlan } from "./switchover.ts";

/** How many replicas a component may have, and whether it runs a primary with replicas. */
export interface ReplicaBounds {
  min: number;
  max: number;
  replicated: boolean;
  /** Where the bounds come from, for messages (e.g. `postgresql topology replication`). */
  source: string;
  /** The engine's answer: does a replica whose primary reports its link in `state` follow it? */
  replicaFollows: (state: string | undefined) => boolean;
}

/** One component's scaling. */
export interface ScalingPlan {
  component: string;
  from: number;
  to: number;
  /** When a replica counts as following its primary (the engine's answer, see ReplicaBounds). */
  replicaFollows: (state: string | undefined) => boolean;
}

/** The starting replicas of every listed component: recorded in status once, so a retried start does not apply changes twice. */
export function startingReplicas(ops: OpsRequest, cluster: Cluster): Record<string, { replicas: number }> {
  const recorded = ops.status?.lastConfiguration?.components ?? {};
  const entries = (ops.spec.horizontalScaling ?? []).map((h): [string, { replicas: number }] => {
    const current = cluster.spec.componentSpecs.find((c) => c.name === h.componentName)?.replicas ?? 0;
    return [h.componentName, { replicas: recorded[h.componentName]?.replicas ?? current }];
  });
  return Object.fromEntries(entries);
}

/** Does `entry` name particular instances (to add, bring back or take offline)? */
function namesInstances(entry: HorizontalScalingSpec): boolean {
  const lists = [entry.scaleOut?.newInstances, entry.scaleOut?.offlineInstancesToOnline, entry.scaleIn?.onlineInstancesToOffline];
  return lists.some((list) => list !== undefined && list.length > 0);
}

/** Why a field of `entry` cannot be carried out, if one cannot. */
function unsupported(entry: HorizontalScalingSpec): string | undefined {
  if (namesInstances(entry)) {
    return `component ${entry.componentName}: naming instances (newInstances, offlineInstancesToOnline, onlineInstancesToOffline) is not supported: instances are numbered and a scale-in removes the highest; use replicaChanges or replicas`;
  }
  const changes = entry.scaleOut?.replicaChanges !== undefined || entry.scaleIn?.replicaChanges !== undefined;
  if (entry.replicas !== undefined && changes) return `component ${entry.componentName}: set either replicas or scaleOut/scaleIn.replicaChanges, not both`;
  if (entry.replicas === undefined && !changes) return `component ${entry.componentName}: say how to scale: scaleOut.replicaChanges, scaleIn.replicaChanges or replicas`;
  return undefined;
}

function planOne(entry: HorizontalScalingSpec, from: number, bounds: ReplicaBounds | undefined): ScalingPlan | string {
  const problem = unsupported(entry);
  if (problem !== undefined) return problem;
  if (bounds === undefined) return `component ${entry.componentName} is not a component of the cluster (or its engine is unknown)`;
  const to = entry.replicas ?? from + (entry.scaleOut?.replicaChanges ?? 0) - (entry.scaleIn?.replicaChanges ?? 0);
  if (to < bounds.min || to > bounds.max) {
    return `component ${entry.componentName}: ${to} replicas is outside what ${bounds.source} allows (${bounds.min} to ${bounds.max}); it has ${from}: choose a count in that range`;
  }
  return { component: entry.componentName, from, to, replicaFollows: bounds.replicaFollows };
}

/** The scaling of every listed component, or why the request cannot be carried out. */
export function planHorizontalScaling(ops: OpsRequest, cluster: Cluster, bounds: (component: string) => ReplicaBounds | undefined): { plans: ScalingPlan[] } | { failure: string } {
  const entries = ops.spec.horizontalScaling ?? [];
  if (entries.length === 0) return { failure: "spec.horizontalScaling lists no component; add one with scaleOut.replicaChanges, scaleIn.replicaChanges or replicas" };
  const from = startingReplicas(ops, cluster);
  const plans: ScalingPlan[] = [];
  for (const entry of entries) {
    const planned = planOne(entry, from[entry.componentName]?.replicas ?? 0, bounds(entry.componentName));
    if (typeof planned === "string") return { failure: planned };
    plans.push(planned);
  }
  return { plans };
}

/** The cluster with each planned component at its new replica count. */
export function withReplicas(cluster: Cluster, plans: readonly ScalingPlan[]): Cluster {
  const target = new Map(plans.map((p) => [p.component, p.to]));
  return { ...cluster, spec: { ...cluster.spec, componentSpecs: cluster.spec.componentSpecs.map((c) => (target.has(c.name) ? { ...c, replicas: target.get(c.name) ?? c.replicas } : c)) } };
}

/** Does the cluster's spec already have every planned count? */
export function replicasApplied(cluster: Cluster, plans: readonly ScalingPlan[]): boolean {
  return plans.every((p) => cluster.spec.componentSpecs.find((c) => c.name === p.component)?.replicas === p.to);
}

function membersOf(instances: readonly Instance[], component: string): Instance[] {
  return instances.filter((i) => i.spec.componentName === component && i.metadata.deletionTimestamp === undefined);
}

/** The switchover one component's scale-in needs first (undefined: none), or why it cannot be made. */
function switchoverFor(plan: ScalingPlan, cluster: Cluster, instances: readonly Instance[]): SwitchoverPlan | string | undefined {
  const record = cluster.status?.replication?.[plan.component];
  const primary = record?.currentPrimary;
  const members = membersOf(instances, plan.component);
  const primaryOrdinal = members.find((i) => i.metadata.name === primary)?.spec.ordinal;
  if (primary === undefined || primaryOrdinal === undefined || primaryOrdinal < plan.to) return undefined;
  if ((record?.targetPrimary ?? primary) !== primary) return `component ${plan.component} is changing its primary; retry when that is done`;
  const to = chooseSwitchoverCandidate(members.filter((i) => i.spec.ordinal < plan.to), primary);
  if (to === undefined) return `component ${plan.component}: the primary ${primary} is among the instances a scale-in to ${plan.to} removes, and no ready replica among those that stay can take over; wait until one is ready`;
  return { component: plan.component, from: primary, to };
}

/** The switchovers a scale-in needs first (the primary is among the instances to remove), or why one cannot be made. */
export function scaleInSwitchovers(plans: readonly ScalingPlan[], cluster: Cluster, instances: readonly Instance[]): { switchovers: SwitchoverPlan[] } | { failure: string } {
  const switchovers: SwitchoverPlan[] = [];
  for (const plan of plans) {
    const needed = switchoverFor(plan, cluster, instances);
    if (typeof needed === "string") return { failure: needed };
    if (needed !== undefined) switchovers.push(needed);
  }
  return { switchovers };
}

/** The switchover this operation requested for `component`, and how it ended ("pending" while it runs; undefined: none). */
export function scalingSwitchover(ops: OpsRequest, cluster: Cluster, component: string): { result: "pending" | "succeeded" } | { result: "failed"; message: string } | undefined {
  const record = cluster.status?.replication?.[component];
  const change = record?.roleChange;
  if (change?.requestedBy !== switchoverToken(ops)) return undefined;
  if (change.result === "Failed") return { result: "failed", message: change.message ?? `switchover of ${component} failed` };
  return change.result === "Succeeded" && record?.currentPrimary === change.to ? { result: "succeeded" } : { result: "pending" };
}

/** What one component still waits for before it runs at `to` instances, numbered 0 to to-1, all ready and (replicated) one primary with following replicas; undefined when nothing. */
export function componentWaitingFor(cluster: Cluster, plan: ScalingPlan, instances: readonly Instance[]): string | undefined {
  const all = instances.filter((i) => i.spec.componentName === plan.component);
  const misplaced = all.some((i) => i.metadata.deletionTimestamp !== undefined || i.spec.ordinal >= plan.to);
  if (all.length !== plan.to || misplaced) return `component ${plan.component} to have ${plan.to} instances (it has ${all.length})`;
  const unready = all.find((i) => i.status?.ready !== true);
  if (unready !== undefined) return `instance ${unready.metadata.name} to be ready (it is ${unready.status?.phase ?? "Pending"})`;
  return rolesWaitingFor(cluster, plan, all);
}

/** What the members of a replicated component still wait for: the primary in its role, every other one following it. */
function rolesWaitingFor(cluster: Cluster, plan: ScalingPlan, members: readonly Instance[]): string | undefined {
  const record = cluster.status?.replication?.[plan.component];
  const primary = record?.currentPrimary;
  if (primary === undefined) return undefined;
  if (record?.targetPrimary !== primary) return `component ${plan.component} to finish changing its primary to ${record?.targetPrimary ?? "?"}`;
  const behind = members.find((i) => !inRole(i, primary, plan));
  return behind === undefined ? undefined : notFollowing(behind, primary);
}

function notFollowing(instance: Instance, primary: string): string {
  const role = instance.status?.role ?? "unknown";
  const link = instance.status?.replication?.state ?? "not reported";
  return `instance ${instance.metadata.name} to follow the primary ${primary} (role ${role}, replication link ${link})`;
}

/** Is `instance` the primary in its role, or a secondary following it (the engine says what following is)? */
function inRole(instance: Instance, primary: string, plan: ScalingPlan): boolean {
  const status = instance.status;
  if (instance.metadata.name === primary) return status?.role === "primary";
  return status?.role === "secondary" && plan.replicaFollows(status.replication?.state);
}

/** Progress of a HorizontalScaling: a component is done once it runs at its new size in its roles. */
export function horizontalScalingProgress(ops: OpsRequest, cluster: Cluster, instances: readonly Instance[], plans: readonly ScalingPlan[]): OpsProgress {
  for (const plan of plans) {
    const switchover = scalingSwitchover(ops, cluster, plan.component);
    if (switchover?.result === "failed") return { done: 0, total: plans.length, finished: false, failure: `the switchover before scaling in failed: ${switchover.message}` };
  }
  const crashed = instances.find((i) => plans.some((p) => p.component === i.spec.componentName) && i.status?.phase === "Failed");
  if (crashed !== undefined) return { done: 0, total: plans.length, finished: false, failure: `instance ${crashed.metadata.name} failed: ${crashed.status?.message ?? "unknown reason"}` };
  const waiting = plans.map((p) => componentWaitingFor(cluster, p, instances)).filter((w) => w !== undefined);
  const first = specWaitingFor(cluster, plans) ?? waiting[0];
  return { done: plans.length - waiting.length, total: plans.length, finished: first === undefined, ...(first === undefined ? {} : { waitingFor: first }) };
}

/** What the cluster's spec and its controller still wait for: the new counts written, then seen. */
function specWaitingFor(cluster: Cluster, plans: readonly ScalingPlan[]): string | undefined {
  if (!replicasApplied(cluster, plans)) return "the new replica counts to be applied";
  const seen = (cluster.status?.observedGeneration ?? 0) >= (cluster.metadata.generation ?? 0);
  return seen ? undefined : "the cluster controller to see the new replica counts";
}
