/**
 * Switchover (pure): check the request against the component's replication record and instances, choose the
 * candidate when none is named, and judge progress. The ha controller carries the switchover out once the
 * record names the candidate as target primary.
 */
import type { Cluster, ComponentReplicationStatus, Instance, OpsRequest, RoleChange, SwitchoverSpec } from "../../api/index.ts";
import type { OpsProgress } from "./progress.ts";

/** One component's planned switchover. */
export interface SwitchoverPlan {
  component: string;
  from: string;
  to: string;
}

/** What the switchover records as `requestedBy`: unique per OpsRequest. */
export function switchoverToken(ops: OpsRequest): string {
  return `${ops.metadata.namespace ?? "default"}/${ops.metadata.name}/${ops.metadata.uid ?? ""}`;
}

function membersOf(instances: readonly Instance[], component: string): Instance[] {
  return instances.filter((i) => i.spec.componentName === component && i.spec.replication !== undefined && i.metadata.deletionTimestamp === undefined);
}

function isReadyReplica(instance: Instance): boolean {
  return instance.status?.ready === true && instance.status.role === "secondary" && instance.spec.replication?.fenced !== true && instance.spec.running;
}

/** The replica with the least lag (then by name): the quickest to catch up. */
export function chooseSwitchoverCandidate(instances: readonly Instance[], primary: string): string | undefined {
  const lag = (i: Instance): number => i.status?.replication?.lagBytes ?? Number.MAX_SAFE_INTEGER;
  return instances
    .filter((i) => i.metadata.name !== primary && isReadyReplica(i))
    .sort((a, b) => lag(a) - lag(b) || a.metadata.name.localeCompare(b.metadata.name))[0]?.metadata.name;
}

/** Why the component cannot switch over from `instanceName` now, if it cannot. */
function primaryProblem(component: string, instanceName: string, record: ComponentReplicationStatus | undefined): string | undefined {
  const current = record?.currentPrimary;
  if (current === undefined) return `component ${component} has no primary yet (is it replicated and Running?); wait for the cluster to be Running`;
  if ((record?.targetPrimary ?? current) !== current) return `component ${component} is already changing its primary to ${record?.targetPrimary ?? "?"}; retry when that is done`;
  if (instanceName !== current) return `${instanceName} is not the primary of component ${component}; the primary is ${current}`;
  return undefined;
}

/** Why `candidate` cannot take over, if it cannot. */
function candidateProblem(component: string, candidate: string, primary: string, members: readonly Instance[]): string | undefined {
  const named = members.find((i) => i.metadata.name === candidate);
  if (named === undefined) return `candidate ${candidate} is not an instance of component ${component}`;
  if (candidate === primary) return `candidate ${candidate} is already the primary`;
  if (isReadyReplica(named)) return undefined;
  const role = named.status?.role === undefined ? "" : `, ${named.status.role}`;
  return `candidate ${candidate} is not a ready replica (it is ${named.status?.phase ?? "Pending"}${role})`;
}

function planOne(entry: SwitchoverSpec, record: ComponentReplicationStatus | undefined, instances: readonly Instance[]): SwitchoverPlan | string {
  const { componentName: component, instanceName } = entry;
  const problem = primaryProblem(component, instanceName, record);
  if (problem !== undefined) return problem;
  const members = membersOf(instances, component);
  const to = entry.candidateName ?? chooseSwitchoverCandidate(members, instanceName);
  if (to === undefined) return `component ${component} has no ready replica to switch over to`;
  return candidateProblem(component, to, instanceName, members) ?? { component, from: instanceName, to };
}

/** The switchovers to start, or why the request cannot be carried out. */
export function planSwitchover(ops: OpsRequest, cluster: Cluster, instances: readonly Instance[]): { plans: SwitchoverPlan[] } | { failure: string } {
  const plans: SwitchoverPlan[] = [];
  for (const entry of ops.spec.switchover ?? []) {
    const planned = planOne(entry, cluster.status?.replication?.[entry.componentName], instances);
    if (typeof planned === "string") return { failure: planned };
    plans.push(planned);
  }
  return plans.length === 0 ? { failure: "spec.switchover lists no component" } : { plans };
}

/** The record of `plan` as the target of a switchover requested by `ops`. */
export function switchoverRecord(record: ComponentReplicationStatus | undefined, plan: SwitchoverPlan, ops: OpsRequest, at: string): ComponentReplicationStatus {
  const roleChange: RoleChange = { reason: "Switchover", requestedBy: switchoverToken(ops), from: plan.from, to: plan.to, result: "InProgress", startedAt: at };
  return { ...record, targetPrimary: plan.to, roleChange };
}

/** Has `ops` already been recorded on any component (a begin interrupted before the OpsRequest's own status)? */
export function switchoverRecorded(ops: OpsRequest, cluster: Cluster): boolean {
  const token = switchoverToken(ops);
  return Object.values(cluster.status?.replication ?? {}).some((r) => r.roleChange?.requestedBy === token);
}

/** Is the switchover of one component done: the roles swapped and both instances running in their new roles? */
function swapped(record: ComponentReplicationStatus | undefined, change: RoleChange, instances: readonly Instance[]): boolean {
  const running = (name: string, role: string): boolean => instances.some((i) => i.metadata.name === name && i.status?.ready === true && i.status.role === role);
  return change.result === "Succeeded" && record?.currentPrimary === change.to && running(change.to, "primary") && running(change.from, "secondary");
}

/** Progress: done per component once the roles are swapped and both instances run in their new roles. */
export function switchoverProgress(ops: OpsRequest, cluster: Cluster, instances: readonly Instance[]): OpsProgress {
  const requester = switchoverToken(ops);
  const entries = ops.spec.switchover ?? [];
  let done = 0;
  for (const entry of entries) {
    const record = cluster.status?.replication?.[entry.componentName];
    const change = record?.roleChange;
    if (change?.requestedBy !== requester) continue;
    if (change.result === "Failed") return { done, total: entries.length, finished: false, failure: change.message ?? `switchover of ${entry.componentName} failed` };
    if (swapped(record, change, instances)) done++;
  }
  return { done, total: entries.length, finished: entries.length > 0 && done === entries.length };
}
