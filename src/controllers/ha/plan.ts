/**
 * The ha controller's decisions, without I/O: who should be primary, whether to fail over, what each
 * member's replication spec should be, where the endpoints send connections, and what status to report.
 */
import { heldAfterExit, instanceNeedsRestart, type Cluster, type ComponentReplicationStatus, type Instance, type InstanceReplicationSpec, type InstanceReplicationStatus, type RoleChange } from "../../api/index.ts";
import type { FailoverCandidate, ReplicaObservation, ReplicationObservation } from "../../engines/index.ts";
import { LABEL_ROLE, primaryOf } from "../cluster/index.ts";
import type { HaSettings } from "./settings.ts";

/** One instance of a replicated component, with what this pass saw of it. */
export interface Member {
  name: string;
  instance: Instance;
  /** The replication probe of this pass; undefined when the instance was not probed or did not answer. */
  observation: ReplicationObservation | undefined;
  /** Probes in a row that got no answer from a running instance. */
  failures: number;
  /** Its node agent cannot be heard (its node is not Ready, or it lost the primary lease): what it last reported is stale. */
  unreachable?: boolean;
}

/** A replicated component as the ha controller sees it. */
export interface ComponentView {
  cluster: Cluster;
  component: string;
  members: readonly Member[];
  settings: HaSettings;
  nowMs: number;
  /** The engine's ranking of failover candidates. */
  rank: (candidates: readonly FailoverCandidate[]) => string[];
  /** Why promoting one of `candidates` in place of `from` could lose acknowledged commits (synchronous mode), if it could. */
  failoverBlock?: (from: string, candidates: readonly string[]) => string | undefined;
  /** Who holds the component's primary lease as the store says now (holder undefined: nobody); undefined when not read. */
  primaryLease?: PrimaryLeaseView;
  /** The engine's primary can checkpoint before a switchover stops it. */
  checkpoints?: boolean;
}

/** A switchover waits this long at most for the primary's checkpoint before it stops it anyway (the stop writes it then). */
export const CHECKPOINT_WAIT_MS = 10_000;

/**
 * A switchover that has not begun to fence, from a running primary of an engine that checkpoints, whose checkpoint
 * its node agent has not reported yet and was asked less than CHECKPOINT_WAIT_MS ago: the primary keeps serving, its
 * endpoint open, meanwhile (pure).
 */
export function awaitsCheckpoint(change: RoleChange | undefined, old: Member | undefined, checkpoints: boolean, nowMs: number): boolean {
  if (!checkpoints || change === undefined || !switchoverBeforeFence(change) || old === undefined) return false;
  if (isFencedMember(old) || observedRole(old) !== "primary") return false;
  return old.instance.status?.replicationState?.checkpointed !== change.startedAt && nowMs - Date.parse(change.startedAt) < CHECKPOINT_WAIT_MS;
}

function switchoverBeforeFence(change: RoleChange): boolean {
  return change.reason === "Switchover" && change.result === "InProgress" && (change.step ?? "Fencing") === "Fencing";
}

/** The component's primary lease as read from the store this pass. */
export interface PrimaryLeaseView {
  holder: string | undefined;
  /** In how many ms the store counts it expired unless renewed (undefined: nobody holds it, or not known). */
  expiresInMs?: number;
}

/**
 * Its node agent held the primary lease for it, and the store says the lease is now free or another's: the agent
 * fenced it before the lease could expire, or the agent (its node) is gone. Either way it no longer accepts writes.
 */
export function lostPrimaryLease(member: Member, lease: PrimaryLeaseView | undefined): boolean {
  const claimed = member.instance.status?.primaryLease?.holder;
  return claimed !== undefined && lease !== undefined && lease.holder !== claimed;
}

/** What to do about the primary. */
export type PrimaryDecision =
  | { kind: "steady"; primary: string }
  | { kind: "initialise"; primary: string }
  | { kind: "transition"; from: string; to: string }
  | { kind: "failover"; from: string; to: string; why: string }
  | { kind: "restartInPlace"; primary: string; why: string }
  | { kind: "wait"; primary: string; why: string };

/** The record of `component` in the cluster's status. */
export function recordOf(cluster: Cluster, component: string): ComponentReplicationStatus | undefined {
  return cluster.status?.replication?.[component];
}

export function isFencedMember(member: Member): boolean {
  return member.instance.spec.replication?.fenced === true;
}

/** Known to be stopped: fenced, or held by its node agent after an unexpected exit. */
function isStoppedMember(member: Member): boolean {
  return isFencedMember(member) || heldAfterExit(member.instance);
}

/** The role the member runs in now: this pass's probe, else what its status last said. */
export function observedRole(member: Member): string | undefined {
  if (member.unreachable === true || member.instance.status?.ready !== true || member.instance.status.pid === undefined) return undefined;
  return member.observation?.role ?? member.instance.status.role;
}

/** Started on purpose a moment ago, being restarted, or being set up: not a failure yet. */
function isComingUp(instance: Instance, settings: HaSettings, nowMs: number): boolean {
  const phase = instance.status?.phase;
  if (phase === "Pending" || phase === "Initializing" || phase === "Stopping" || instanceNeedsRestart(instance)) return true;
  const startedAt = instance.status?.startedAt;
  return startedAt !== undefined && nowMs - Date.parse(startedAt) < settings.startGraceMs;
}

/** Why the primary counts as down, or undefined while it is up (or deliberately stopped). */
export function primaryDown(member: Member, settings: HaSettings, nowMs: number, lease?: PrimaryLeaseView): string | undefined {
  if (!member.instance.spec.running) return undefined;
  if (isStoppedMember(member)) return `${member.name} exited and fenced itself`;
  if (lostPrimaryLease(member, lease)) return `${member.name}'s node agent no longer holds the primary lease (not renewed within ${settings.leaseDurationMs / 1000} s: its node is down or cut off from the store)`;
  if (member.failures < settings.failureThreshold || isComingUp(member.instance, settings, nowMs)) return undefined;
  return `${member.name} did not answer ${member.failures} role probes in a row`;
}

/** Replicas that may be promoted now, best first (running, ready, not fenced, seen as secondaries this pass). */
export function rankedCandidates(view: ComponentView, exclude: string): string[] {
  const eligible = view.members.filter((m) => m.name !== exclude && m.instance.spec.running && !isFencedMember(m) && m.instance.status?.ready === true && m.observation?.role === "secondary");
  return view.rank(eligible.map((m) => ({ instanceName: m.name, observation: m.observation as ReplicationObservation })));
}

/** The replica to promote in place of `current`, or why there is none. */
function failoverTarget(view: ComponentView, current: string): { to: string; why?: undefined } | { to?: undefined; why: string } {
  if (!view.settings.automaticFailover) return { why: "automatic failover is off" };
  const ranked = rankedCandidates(view, current);
  const best = ranked[0];
  if (best === undefined) return { why: "no replica can take over" };
  const blocked = view.failoverBlock?.(current, ranked);
  return blocked === undefined ? { to: best } : { why: blocked };
}

/** The decision about the primary of a replicated component. */
export function decidePrimary(view: ComponentView): PrimaryDecision {
  const record = recordOf(view.cluster, view.component);
  const current = record?.currentPrimary;
  if (current === undefined) return { kind: "initialise", primary: primaryOf(view.cluster, { name: view.component, replicated: true }, view.members.map((m) => m.instance)) };
  const target = record?.targetPrimary ?? current;
  if (target !== current) return { kind: "transition", from: current, to: target };
  const primary = view.members.find((m) => m.name === current);
  if (primary === undefined) return { kind: "wait", primary: current, why: `primary ${current} does not exist` };
  const down = primaryDown(primary, view.settings, view.nowMs, view.primaryLease);
  if (down === undefined) return { kind: "steady", primary: current };
  const replacement = failoverTarget(view, current);
  if (replacement.to !== undefined) return { kind: "failover", from: current, to: replacement.to, why: down };
  const why = `${down}; ${replacement.why}`;
  // Only a primary known to be stopped (fenced) may be restarted; one that may still run is left alone.
  return isStoppedMember(primary) ? { kind: "restartInPlace", primary: current, why } : { kind: "wait", primary: current, why };
}

/** A member's role and replication spec as the steady state wants them. */
export interface MemberSpec {
  name: string;
  role: "primary" | "secondary";
  replication: InstanceReplicationSpec;
}

/**
 * Steady-state specs: the primary fences on exit when a replica could take over; every other member is an
 * unfenced secondary of the primary (a former primary rejoins). A primary's own fence is never set or lifted
 * here (see withFence): only a failover or restart decision does that.
 */
export function desiredSpecs(view: ComponentView, primary: string): MemberSpec[] {
  const canFailOver = view.settings.automaticFailover && view.members.length > 1;
  return view.members.map((m): MemberSpec =>
    m.name === primary ? { name: m.name, role: "primary", replication: canFailOver ? { fenceOnExit: true } : {} } : { name: m.name, role: "secondary", replication: { upstream: primary } },
  );
}

/** The replication spec to write for `desired` over `current`: a fenced primary stays fenced. */
export function withFence(desired: MemberSpec, current: Instance): InstanceReplicationSpec {
  return desired.role === "primary" && current.spec.replication?.fenced === true ? { ...desired.replication, fenced: true } : desired.replication;
}

/**
 * Do two replication specs say the same (field order and absent-vs-false aside)? A request for a fresh probe
 * (observeAfter) counts, so the steady state ends one a role change left behind.
 */
export function sameReplicationSpec(a: InstanceReplicationSpec | undefined, b: InstanceReplicationSpec | undefined): boolean {
  const normal = (r: InstanceReplicationSpec | undefined): string => JSON.stringify([r?.upstream ?? "", r?.fenced === true, r?.fenceOnExit === true, r?.observeAfter ?? ""]);
  return normal(a) === normal(b);
}

/** The fields of a replication spec that role and fence decisions keep as they are: the durability and a restart after an exit. */
export function keptReplicationFields(instance: Instance): InstanceReplicationSpec {
  const { durability, restartAfterExit } = instance.spec.replication ?? {};
  return { ...(durability === undefined ? {} : { durability }), ...(restartAfterExit === undefined ? {} : { restartAfterExit }) };
}

/** Does `instance`'s spec differ from `desired`? */
export function specDiffers(instance: Instance, desired: MemberSpec): boolean {
  return instance.spec.role !== desired.role || !sameReplicationSpec(instance.spec.replication, withFence(desired, instance));
}

/** Where the endpoints of a component send new connections; `hold` makes them wait when there is no target yet. */
export interface ComponentRoutes {
  readWrite: { targets: Member[]; hold: boolean };
  readOnly: { targets: Member[]; hold: boolean };
}

/**
 * The read-write endpoint reaches the primary only while it runs as one and no role change is under way;
 * read-only spreads over ready secondaries. Without a target, connections wait while an instance that could
 * serve is meant to run (a restart, a failover), and are refused when none is (a stopped cluster).
 */
export function routesFor(view: ComponentView, decision: PrimaryDecision): ComponentRoutes {
  const usable = (m: Member): boolean => m.instance.spec.running && !isFencedMember(m);
  const changing = decision.kind === "failover" || (decision.kind === "transition" && !checkpointing(view, decision.from));
  const primaryName = decision.kind === "transition" || decision.kind === "failover" ? decision.from : decision.primary;
  const primary = changing ? [] : view.members.filter((m) => m.name === primaryName && usable(m) && observedRole(m) === "primary");
  const replicas = view.members.filter((m) => m.name !== primaryName && usable(m) && observedRole(m) === "secondary");
  const anyRuns = view.members.some((m) => m.instance.spec.running);
  const replicaRuns = view.members.some((m) => m.name !== primaryName && m.instance.spec.running);
  return { readWrite: { targets: primary, hold: changing || (primary.length === 0 && anyRuns) }, readOnly: { targets: replicas, hold: replicas.length === 0 && replicaRuns } };
}

/** A switchover's primary checkpointing before it is stopped: it keeps its connections and takes new ones meanwhile. */
function checkpointing(view: ComponentView, from: string): boolean {
  return awaitsCheckpoint(recordOf(view.cluster, view.component)?.roleChange, view.members.find((m) => m.name === from), view.checkpoints === true, view.nowMs);
}

/** How often a changing lag is written to an instance's status (a change of state is written at once). */
export const LAG_REFRESH_MS = 5000;

/** A replica's status from the primary's row for it (none: the primary does not see it). */
export function replicaStatus(seen: ReplicaObservation | undefined, nowMs: number): InstanceReplicationStatus {
  const status: InstanceReplicationStatus = { observedAt: new Date(nowMs).toISOString() };
  if (seen?.state !== undefined) status.state = seen.state;
  if (seen?.lagBytes !== undefined) status.lagBytes = seen.lagBytes;
  if (seen?.lagMs !== undefined) status.lagMs = Math.round(seen.lagMs * 1000) / 1000;
  return status;
}

/**
 * Is `next` worth writing over `current`: a new state (or lag appearing/disappearing) at once, a new lag after
 * LAG_REFRESH_MS, and any report taken before the primary's running process started (`primaryStartedAt`): a rolling
 * change waits for a report from the restarted primary before it restarts a replica (cluster/rollout.ts).
 */
export function replicaStatusChanged(current: InstanceReplicationStatus | undefined, next: InstanceReplicationStatus, nowMs: number, primaryStartedAt?: string): boolean {
  if (current === undefined) return true;
  if (primaryStartedAt !== undefined && (Date.parse(current.observedAt ?? "") || 0) < Date.parse(primaryStartedAt)) return true;
  if (current.state !== next.state || (current.lagBytes === undefined) !== (next.lagBytes === undefined)) return true;
  const age = current.observedAt === undefined ? Infinity : nowMs - Date.parse(current.observedAt);
  return (current.lagBytes !== next.lagBytes || current.lagMs !== next.lagMs) && age >= LAG_REFRESH_MS;
}

/** The replication status each member should report, where it differs enough from what it reports. */
export function lagUpdates(view: ComponentView, primary: string, replicaName: (instance: string) => string): { name: string; replication: InstanceReplicationStatus | undefined }[] {
  const primaryMember = view.members.find((m) => m.name === primary);
  const source = primaryMember?.observation;
  if (source?.role !== "primary") return [];
  const startedAt = primaryMember?.instance.status?.startedAt;
  return view.members.flatMap((member): { name: string; replication: InstanceReplicationStatus | undefined }[] => {
    const current = member.instance.status?.replication;
    if (member.name === primary) return current === undefined ? [] : [{ name: member.name, replication: undefined }];
    const next = replicaStatus(source.replicas.find((r) => r.name === replicaName(member.name)), view.nowMs);
    return replicaStatusChanged(current, next, view.nowMs, startedAt) ? [{ name: member.name, replication: next }] : [];
  });
}

/**
 * The `kubeblocks.io/role` label each member should carry: the role it was last seen in, kept while it is
 * briefly unready (a restart), removed while it is fenced or stopped (undefined).
 */
export function roleLabelUpdates(view: ComponentView): { name: string; role: string | undefined }[] {
  return view.members.flatMap((m) => {
    const current = m.instance.metadata.labels?.[LABEL_ROLE];
    const stopped = isFencedMember(m) || !m.instance.spec.running || m.instance.status?.phase === "Stopped" || m.unreachable === true;
    const role = stopped ? undefined : (observedRole(m) ?? current);
    return current === role ? [] : [{ name: m.name, role }];
  });
}
