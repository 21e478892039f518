/**
 * Moving the primary role of a component from one instance to another (switchover or failover) as a resumable state
 * machine recorded in Cluster.status.replication[component].roleChange.step (ADR 0021). Each pass checks its step
 * from what is stored, level-triggered, and says when to look again; the node agents' status writes wake it sooner:
 *  - Fencing: a switchover first asks the running primary for a checkpoint (spec.replication.checkpointFor) and
 *    waits for it, with the endpoint still open, so the stop that follows is short; then every member that is or may
 *    be primary, the target aside, is fenced (spec) and its node agent confirms it stopped (observedGeneration, phase
 *    Stopped, no pid);
 *  - CatchingUp: probes taken after the stop (spec.replication.observeAfter): a failover promotes the most advanced
 *    replica, or gives up when too few answer to be sure of every acknowledged commit; a switchover waits until the
 *    target has received the former primary's last WAL (its finalPosition), up to the catch-up timeout;
 *  - Promoting: the target's spec names it primary and its node agent promotes it;
 *  - Routing: the read-write endpoint goes to the new primary and the record says so.
 * The controller never runs an engine command here. The old primary is never unfenced once another instance may
 * have been asked to promote, unless that one is confirmed stopped.
 */
import { heldAfterExit, now, type Cluster, type Instance, type InstanceReplicationSpec, type RoleChange } from "../../api/index.ts";
import { observedSince } from "../../agent/index.ts";
import { UnavailableError, errorMessage } from "../../errors/index.ts";
import type { ClusterEndpoints } from "./endpoints.ts";
import { clusterRef, instanceRef, type ComponentHandle, type HaServices } from "./members.ts";
import { patchObject, patchStatus } from "./patch.ts";
import { awaitsCheckpoint, keptReplicationFields, lostPrimaryLease, observedRole, type Member, type PrimaryLeaseView } from "./plan.ts";
import type { HaSettings } from "./settings.ts";

/** When to look again while a node agent works (its status write wakes the controller sooner). */
const WAIT_MS = 250;
/**
 * How long a failover waits for every running replica to report a position taken after the old primary stopped,
 * counted from the stop or, when later, from when these controllers began to lead: a control plane that restarted
 * (its node agents with it) or moved gives the replicas' agents this long again to answer.
 */
const FINAL_POSITIONS_WAIT_MS = 5000;

/** Everything one pass of a role change works with. */
export interface Transition extends ComponentHandle {
  services: HaServices;
  endpoints: ClusterEndpoints;
  settings: HaSettings;
  /** The component's members as this pass read them. */
  members: readonly Member[];
  nowMs: number;
  /** Fence on exit after promotion: another replica could take over from the new primary. */
  fenceOnExitAfter: boolean;
  /** Why promoting one of `candidates` in place of `from` could lose acknowledged commits (synchronous mode), if it could. */
  failoverBlock?: (from: string, candidates: readonly string[]) => string | undefined;
  /** The component's primary lease as the store says this pass (undefined: not read). */
  primaryLease?: PrimaryLeaseView;
  /** When these controllers began to lead (epoch ms). */
  leadingSinceMs?: number;
}

/** Steps one pass may take one after another: the next step's conditions are often met already. */
const STEPS_PER_PASS = 4;

/** Carry the role change the cluster's status records (targetPrimary ≠ currentPrimary) as far as it goes now; when to look again (ms). */
export async function stepTransition(t: Transition, from: string, to: string): Promise<number> {
  let pass = { t, from, to };
  for (let i = 0; i < STEPS_PER_PASS; i++) {
    const wait = await step(pass.t, pass.from, pass.to);
    if (wait > 0) return wait;
    // The step was recorded: go on with the record as stored (a retarget changes the target; an end ends the change).
    const cluster = await t.services.store.get<Cluster>(clusterRef(t.cluster));
    const record = cluster?.status?.replication?.[t.component];
    const next = record?.targetPrimary;
    if (cluster === undefined || record?.currentPrimary === undefined || next === undefined || next === record.currentPrimary) return 0;
    pass = { t: { ...t, cluster, nowMs: Date.now() }, from: record.currentPrimary, to: next };
  }
  return 0;
}

async function step(t: Transition, from: string, to: string): Promise<number> {
  if (await checkpointing(t, from)) return WAIT_MS;
  await t.endpoints.hold(t.cluster, t.component);
  switch (roleChangeOf(t)?.step ?? "Fencing") {
    case "Fencing":
      return fencing(t, from, to);
    case "CatchingUp":
      return catchingUp(t, from, to);
    case "Promoting":
      return promoting(t, from, to);
    case "Routing":
      return routing(t, from, to);
  }
}

function roleChangeOf(t: Transition): RoleChange | undefined {
  return t.cluster.status?.replication?.[t.component]?.roleChange;
}

function member(t: Transition, name: string): Member | undefined {
  return t.members.find((m) => m.name === name);
}

/** Is the instance's spec fenced (and no longer only fencing on exit)? */
function fencedSpec(instance: Instance): boolean {
  const { fenced, fenceOnExit } = instance.spec.replication ?? {};
  return fenced === true && fenceOnExit !== true;
}

/** Has the node agent acknowledged the fenced spec and reported the instance stopped? */
export function confirmsStopped(instance: Instance | undefined): boolean {
  if (instance === undefined) return true;
  const status = instance.status;
  return fencedSpec(instance) && (status?.observedGeneration ?? 0) >= (instance.metadata.generation ?? 0) && status?.phase === "Stopped" && status.pid === undefined;
}

/**
 * Its node agent reported the process gone after an exit and holds it stopped, and its spec keeps it so (fencing on
 * exit with no restart asked, or fenced): the agent starts nothing the spec does not allow, so this is as sure as a
 * confirmed fence, one status write sooner.
 */
function heldStopped(instance: Instance): boolean {
  const { status } = instance;
  if (status?.phase !== "Stopped" || status.pid !== undefined || status.replicationState?.heldSince === undefined) return false;
  return heldAfterExit(instance) || instance.spec.replication?.fenced === true;
}

/**
 * Its node agent confirms it stopped (or holds it stopped after an exit), or it lost the primary lease (its agent
 * fences it before the lease can expire, ADR 0029): the way to go on when that agent's node is down or cut off and
 * cannot confirm anything.
 */
function stoppedOrUnleased(t: Transition, m: Member): boolean {
  return confirmsStopped(m.instance) || heldStopped(m.instance) || lostPrimaryLease(m, t.primaryLease);
}

/** The members other than `to` that are, were asked to be, or may still run as primary. */
function mayBePrimary(t: Transition, from: string, to: string): Member[] {
  return t.members.filter((m) => m.name !== to && (m.name === from || m.instance.spec.role === "primary" || observedRole(m) === "primary"));
}

/** Step Fencing: fence them all; go on once every node agent confirms. */
async function fencing(t: Transition, from: string, to: string): Promise<number> {
  let waiting = false;
  for (const m of mayBePrimary(t, from, to)) {
    if (!fencedSpec(m.instance)) await fence(t, m.name);
    waiting ||= !stoppedOrUnleased(t, m);
  }
  if (waiting) return WAIT_MS;
  await writeRoleChange(t, to, { step: "CatchingUp", fencedAt: now() });
  return 0;
}

/**
 * A switchover, before anything is held or stopped: the running primary is asked for a checkpoint (engines that have
 * one) and the change waits for its agent to report it, at most CHECKPOINT_WAIT_MS. True while it waits.
 */
async function checkpointing(t: Transition, from: string): Promise<boolean> {
  const change = roleChangeOf(t);
  if (change === undefined || !awaitsCheckpoint(change, member(t, from), t.replication.checkpoint !== undefined, t.nowMs)) return false;
  if (member(t, from)?.instance.spec.replication?.checkpointFor === change.startedAt) return true;
  await askOf(t, from, { checkpointFor: change.startedAt });
  return true;
}

/** Ask a member's node agent for something through its spec.replication (a fresh probe, a checkpoint), unless asked already. */
async function askOf(t: Transition, name: string, request: Pick<InstanceReplicationSpec, "observeAfter" | "checkpointFor">): Promise<void> {
  await patchObject<Instance>(t.services.store, instanceRef(t.cluster, name), (current) => {
    const asked = Object.entries(request).every(([field, value]) => current.spec.replication?.[field as keyof typeof request] === value);
    return asked ? undefined : { ...current, spec: { ...current.spec, replication: { ...current.spec.replication, ...request } } };
  });
}

/** Record the fence in the spec (the node agent stops the instance and never starts it while it stays). */
async function fence(t: Transition, name: string): Promise<void> {
  await patchObject<Instance>(t.services.store, instanceRef(t.cluster, name), (current) => {
    if (fencedSpec(current)) return undefined;
    const { fenceOnExit: _dropped, checkpointFor: _done, ...rest } = current.spec.replication ?? {};
    return { ...current, spec: { ...current.spec, replication: { ...rest, fenced: true } } };
  });
}

/** A running, ready, unfenced member that answers as a replica. */
function runningReplica(m: Member): boolean {
  return m.instance.spec.running && m.instance.spec.replication?.fenced !== true && observedRole(m) === "secondary";
}

/** Its process runs, meant to, and is not fenced. */
function processRuns(m: Member): boolean {
  return m.instance.spec.running && m.instance.spec.replication?.fenced !== true && m.instance.status?.pid !== undefined;
}

/** Step CatchingUp. */
async function catchingUp(t: Transition, from: string, to: string): Promise<number> {
  const change = roleChangeOf(t);
  const fencedAt = change?.fencedAt ?? new Date(t.nowMs).toISOString();
  const target = member(t, to);
  const failover = change?.reason === "Failover";
  // A failover settles on the most advanced replica once they answer; one that restarted a moment ago may be it.
  if (target === undefined || !(runningReplica(target) || (failover && processRuns(target)))) return retargetOrAbort(t, from, to, `${to} is not a running replica`);
  return failover ? settle(t, from, to, fencedAt) : catchUp(t, from, target, fencedAt);
}

/** Ask the node agents of `members` for probes taken after `after` (they probe closely until the field goes). */
async function askForProbes(t: Transition, members: readonly Member[], after: string): Promise<void> {
  const asked = members.filter((m) => m.instance.spec.replication?.observeAfter !== after);
  // Every agent probes at once, not one after the other's spec write.
  await Promise.all(asked.map((m) => askOf(t, m.name, { observeAfter: after })));
}

/**
 * A failover, with the old primary stopped: the replicas' positions are final once probed after the stop; promote the
 * one that is now the most advanced (it may have received more after the failover was decided), or give up when too
 * few answer to be sure of every acknowledged commit.
 */
async function settle(t: Transition, from: string, to: string, fencedAt: string): Promise<number> {
  // In synchronous mode every replica whose process runs is asked, also one that restarted a moment ago and has not
  // answered as a replica yet: it may be the one quorum member that has the last acknowledged commits.
  const durable = t.failoverBlock?.(from, []) !== undefined;
  const candidates = t.members.filter((m) => m.name !== from && (runningReplica(m) || (durable && processRuns(m))));
  await askForProbes(t, candidates, fencedAt);
  const fresh = candidates.filter((m) => observedSince(m.instance, fencedAt) && observedRole(m) === "secondary");
  const waitingSince = Math.max(Date.parse(fencedAt), t.leadingSinceMs ?? 0);
  if (fresh.length < candidates.length && t.nowMs - waitingSince < FINAL_POSITIONS_WAIT_MS) return WAIT_MS;
  const ranked = t.replication.rankCandidates(fresh.flatMap((m) => (m.observation === undefined ? [] : [{ instanceName: m.name, observation: m.observation }])));
  const blocked = t.failoverBlock?.(from, ranked);
  if (blocked !== undefined) return abort(t, from, to, `${blocked}; ${from} stays primary`);
  const best = ranked[0];
  const target = member(t, to);
  if (best === undefined && (target === undefined || !runningReplica(target))) return retargetOrAbort(t, from, to, `${to} did not answer as a replica`);
  if (best === undefined || best === to) {
    await writeRoleChange(t, to, { step: "Promoting" });
    return 0;
  }
  await writeRoleChange(t, best, { to: best, step: "Promoting", message: `${best} received more than ${to} before ${from} stopped; promoting ${best}` });
  await t.services.events.record(t.cluster, "Normal", "FailoverRetarget", `${best} is the most advanced replica once ${from} stopped; promoting it instead of ${to}`);
  return 0;
}

/** A switchover: wait until the target has received everything the cleanly stopped former primary wrote. */
async function catchUp(t: Transition, from: string, target: Member, fencedAt: string): Promise<number> {
  await askForProbes(t, [target], fencedAt);
  const final = member(t, from)?.instance.status?.replicationState?.finalPosition;
  if (final !== undefined && observedSince(target.instance, fencedAt) && t.replication.hasReceived(final, target.observation?.received)) {
    await writeRoleChange(t, target.name, { step: "Promoting" });
    return 0;
  }
  if (t.nowMs - Date.parse(fencedAt) < t.settings.catchUpTimeoutMs) return WAIT_MS;
  return abort(t, from, target.name, `${target.name} did not receive all of ${from}'s WAL within ${t.settings.catchUpTimeoutMs} ms; ${from} stays primary`);
}

/** Step Promoting: with every other possible primary confirmed stopped, the target's spec names it primary. */
async function promoting(t: Transition, from: string, to: string): Promise<number> {
  const target = member(t, to);
  const others = mayBePrimary(t, from, to);
  if (!others.every((m) => stoppedOrUnleased(t, m))) return othersNotStopped(t, to, target, others);
  if (target !== undefined && observedRole(target) === "primary") {
    await writeRoleChange(t, to, { step: "Routing" });
    return 0;
  }
  // Asked to promote, the target is given up only when its process is gone or fenced, not for a readiness blip (its agent promotes it once it answers).
  if (target === undefined || !processRuns(target)) return retargetOrAbort(t, from, to, `${to} no longer runs`);
  await patchObject<Instance>(t.services.store, instanceRef(t.cluster, to), (current) => {
    const replication: InstanceReplicationSpec = { ...keptReplicationFields(current), ...(t.fenceOnExitAfter ? { fenceOnExit: true } : {}) };
    if (current.spec.role === "primary" && JSON.stringify(current.spec.replication) === JSON.stringify(replication)) return undefined;
    return { ...current, spec: { ...current.spec, role: "primary", replication } };
  });
  await pointAtTarget(t, from, to);
  return WAIT_MS;
}

/**
 * The other running replicas are named the target's replicas as soon as it is asked to promote, not once the change
 * is over: their node agents repoint them the moment it answers as primary, while the endpoints are routed, so in
 * synchronous mode the first commit on the new primary does not wait for a quorum that starts to stream only then.
 */
async function pointAtTarget(t: Transition, from: string, to: string): Promise<void> {
  for (const m of t.members) {
    if (m.name === from || m.name === to || m.instance.spec.role !== "secondary" || m.instance.spec.replication?.fenced === true) continue;
    await patchObject<Instance>(t.services.store, instanceRef(t.cluster, m.name), (current) =>
      current.spec.role !== "secondary" || current.spec.replication?.upstream === to ? undefined : { ...current, spec: { ...current.spec, replication: { ...current.spec.replication, upstream: to } } },
    );
  }
}

/**
 * In Promoting, another possible primary is not known to be stopped (it runs again, or this pass could not read the
 * primary lease). Before the target answers as primary the change goes back to Fencing. Once it does, it is no longer
 * a replica that Fencing and CatchingUp could hand on (they would give it up and bring the old primary back): the
 * others are fenced in their specs and the change waits here, routing nothing, until they are known stopped again.
 */
async function othersNotStopped(t: Transition, to: string, target: Member | undefined, others: readonly Member[]): Promise<number> {
  if (target === undefined || observedRole(target) !== "primary") {
    await writeRoleChange(t, to, { step: "Fencing" });
    return 0;
  }
  for (const m of others) if (!fencedSpec(m.instance)) await fence(t, m.name);
  return WAIT_MS;
}

/** Step Routing: the new primary answers as such; send writes to it and record the outcome. */
async function routing(t: Transition, from: string, to: string): Promise<number> {
  const target = member(t, to);
  if (target === undefined || observedRole(target) !== "primary") {
    await writeRoleChange(t, to, { step: "Promoting" });
    return 0;
  }
  await t.endpoints.routeReadWrite(t.cluster, t.component, target.instance);
  const change = roleChangeOf(t);
  const started = Date.parse(change?.startedAt ?? "") || t.nowMs;
  const fenced = Date.parse(change?.fencedAt ?? "") || t.nowMs;
  const message = `${to} is primary ${Math.round(t.nowMs - started)} ms after the role change began (${from} fenced in ${Math.round(fenced - started)} ms); ${from} rejoins as its replica`;
  await writeRoleChange(t, to, { result: "Succeeded", step: undefined, message, finishedAt: now() }, to);
  await t.services.events.record(t.cluster, "Normal", change?.reason === "Failover" ? "FailedOver" : "SwitchedOver", message);
  return 0;
}

/** The target cannot be promoted: a failover tries the next best replica (fencing the failed one first); otherwise the old primary comes back. */
async function retargetOrAbort(t: Transition, from: string, to: string, why: string): Promise<number> {
  if (roleChangeOf(t)?.reason === "Failover") {
    const ranked = t.replication.rankCandidates(
      t.members.filter((m) => m.name !== from && m.name !== to && runningReplica(m) && m.observation !== undefined).map((m) => ({ instanceName: m.name, observation: m.observation as NonNullable<Member["observation"]> })),
    );
    // The failed target is not among them: the others alone must be enough to hold every acknowledged commit.
    const next = t.failoverBlock?.(from, ranked) === undefined ? ranked[0] : undefined;
    if (next !== undefined) {
      // Whatever state it is in, the failed target must not run as a primary beside the next one.
      if (member(t, to) !== undefined) await fence(t, to);
      await writeRoleChange(t, next, { to: next, step: "Fencing", message: `${why}; trying ${next}` });
      await t.services.events.record(t.cluster, "Warning", "FailoverRetarget", `${why}; promoting ${next} instead`);
      return 0;
    }
  }
  return abort(t, from, to, `${why}; ${from} stays primary`);
}

/**
 * Give up: the old primary is unfenced (it restarts as primary) and the change recorded as failed, but only once a
 * target that was asked to promote is confirmed stopped.
 */
async function abort(t: Transition, from: string, to: string, message: string): Promise<number> {
  const target = member(t, to);
  if (target !== undefined && target.instance.spec.role === "primary") {
    await fence(t, to);
    if (!confirmsStopped(target.instance)) return WAIT_MS;
  }
  await patchObject<Instance>(t.services.store, instanceRef(t.cluster, from), (current) => {
    const { fenced: _fenced, observeAfter: _observe, ...rest } = current.spec.replication ?? {};
    return { ...current, spec: { ...current.spec, role: "primary", replication: rest } };
  });
  await writeRoleChange(t, from, { result: "Failed", step: undefined, message, finishedAt: now() });
  // A failover given up leaves the stopped primary to restart in place, as one never started does.
  if (roleChangeOf(t)?.reason === "Failover") await t.services.events.record(t.cluster, "Warning", "RestartedInPlace", `${message}; restarting ${from} in place`);
  else await t.services.events.record(t.cluster, "Warning", "SwitchoverFailed", message);
  return 0;
}

/** Record the target primary (and the current one, once promoted) with the role change's progress. */
async function writeRoleChange(t: Transition, target: string, change: Partial<RoleChange>, current?: string): Promise<void> {
  try {
    await patchStatus<Cluster>(t.services.store, clusterRef(t.cluster), (cluster) => {
      const record = cluster.status?.replication?.[t.component] ?? {};
      const roleChange = record.roleChange === undefined ? undefined : withoutUndefined({ ...record.roleChange, ...change });
      const next = { ...record, targetPrimary: target, ...(current === undefined ? {} : { currentPrimary: current }), ...(roleChange === undefined ? {} : { roleChange }) };
      return { ...cluster, status: { ...cluster.status, replication: { ...cluster.status?.replication, [t.component]: next } } };
    });
  } catch (error) {
    throw new UnavailableError(`cannot record the role change of ${t.cluster.metadata.name}/${t.component}: ${errorMessage(error)}`, { cause: error });
  }
}

function withoutUndefined(change: Partial<RoleChange>): RoleChange {
  return Object.fromEntries(Object.entries(change).filter(([, value]) => value !== undefined)) as RoleChange;
}
