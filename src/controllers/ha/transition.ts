/**
 * Moving the primary role of a component from one instance to another (switchover or failover), in steps
 * that are each safe to repeat, so a control plane restarted halfway resumes: drain the read-write
 * endpoint, fence the old primary and wait until the instance controller confirms it stays down, (for a
 * switchover) wait until the candidate has every WAL record of the old primary, promote, record. The old
 * primary is never unfenced as primary once another instance may have been promoted.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { now, type Cluster, type Instance, type RoleChange } from "../../api/index.ts";
import { UnavailableError, errorMessage } from "../../errors/index.ts";
import type { ReplicationCredentials } from "../../engines/index.ts";
import type { ClusterEndpoints } from "./endpoints.ts";
import { clusterRef, contextOf, credentialsOf, instanceRef, type ComponentHandle, type HaServices } from "./members.ts";
import { patchObject, patchStatus } from "./patch.ts";
import type { HaSettings } from "./settings.ts";

/** How long the instance controller may take to confirm a fenced instance is stopped. */
const FENCE_CONFIRM_TIMEOUT_MS = 60_000;
const POLL_MS = 20;

/** Everything one role change works with. */
export interface Transition extends ComponentHandle {
  services: HaServices;
  endpoints: ClusterEndpoints;
  settings: HaSettings;
  /** Fence on exit after promotion: another replica could take over from the new primary. */
  fenceOnExitAfter: boolean;
  /** Why promoting one of `candidates` in place of `from` could lose acknowledged commits (synchronous mode), if it could. */
  failoverBlock?: (from: string, candidates: readonly string[]) => string | undefined;
}

/** What came of one attempt. */
export type TransitionOutcome = "promoted" | "retargeted" | "aborted";

/** Carry out the role change the cluster's status records (targetPrimary ≠ currentPrimary). */
export async function runTransition(t: Transition, from: string, to: string): Promise<TransitionOutcome> {
  t.endpoints.hold(t.cluster, t.component);
  const reason = roleChangeOf(t)?.reason ?? "Switchover";
  const started = performance.now();
  const former = await get(t, from);
  if (former !== undefined) await fence(t, former);
  const fencedMs = performance.now() - started;
  const target = await get(t, to);
  const credentials = await credentialsOf(t.services, t, target ?? former ?? mustExist(to));
  const attempt: Attempt = { from, to, reason, credentials, why: `${to} is not a running replica` };
  const outcome = target === undefined ? await retargetOrAbort(t, attempt) : await promoteTarget(t, attempt, former, target);
  if (outcome !== "promoted" || target === undefined) return outcome;
  t.endpoints.routeReadWrite(t.cluster, t.component, target.spec.port);
  await finish(t, { from, to, reason, fencedMs, totalMs: performance.now() - started });
  return "promoted";
}

/** Promote `target` unless it already is primary (a resumed change); a switchover first waits until it has all of `former`'s WAL. */
async function promoteTarget(t: Transition, attempt: Attempt, former: Instance | undefined, target: Instance): Promise<TransitionOutcome> {
  const seen = target.status?.pid === undefined ? undefined : await t.replication.probe(target.spec.port, attempt.credentials.admin);
  if (seen?.role === "primary") return "promoted";
  if (seen?.role !== "secondary" || target.spec.replication?.fenced === true) return retargetOrAbort(t, attempt);
  const settled = await settledChoice(t, attempt);
  if (settled !== undefined) return settled;
  if (attempt.reason === "Switchover" && former !== undefined && !(await caughtUp(t, former, target, attempt.credentials))) {
    return abort(t, attempt.from, `${attempt.to} did not receive all of ${attempt.from}'s WAL within ${t.settings.catchUpTimeoutMs} ms; ${attempt.from} stays primary`);
  }
  await t.replication.promote(await contextOf(t.services, t.engine, target), attempt.credentials.admin, await t.services.users.hostOf(target));
  return "promoted";
}

function roleChangeOf(t: Transition): RoleChange | undefined {
  return t.cluster.status?.replication?.[t.component]?.roleChange;
}

function mustExist(name: string): never {
  throw new UnavailableError(`neither the old nor the new primary (${name}) exists any more`);
}

async function get(t: Transition, name: string): Promise<Instance | undefined> {
  return t.services.store.get<Instance>(instanceRef(t.cluster, name));
}

/**
 * Fence `instance`: record it in the spec first (so the instance controller will not start it again), stop it,
 * and wait until the instance controller has seen the fenced spec and reports it stopped.
 */
export async function fence(t: Transition, instance: Instance): Promise<void> {
  const fenced = await patchObject<Instance>(t.services.store, instanceRef(t.cluster, instance.metadata.name), (current) => {
    const replication = current.spec.replication ?? {};
    if (replication.fenced === true && replication.fenceOnExit !== true) return undefined;
    const { fenceOnExit: _dropped, ...rest } = replication;
    return { ...current, spec: { ...current.spec, replication: { ...rest, fenced: true } } };
  });
  if (fenced === undefined) return;
  const context = await contextOf(t.services, t.engine, fenced);
  const host = await t.services.users.hostOf(fenced);
  await t.replication.fence(context, host);
  await confirmStopped(t, instance.metadata.name, fenced.metadata.generation ?? 0);
  // Whatever ran meanwhile (a start that was already under way) is stopped too.
  await t.replication.fence(context, host);
}

/** Has the instance controller seen the spec of `generation` and reported the instance stopped? */
export function confirmsStopped(instance: Instance | undefined, generation: number): boolean {
  if (instance === undefined) return true;
  const status = instance.status;
  return (status?.observedGeneration ?? 0) >= generation && status?.phase === "Stopped" && status.pid === undefined;
}

/** Wait for the instance controller to confirm the fence: from then on it will not start the instance. */
async function confirmStopped(t: Transition, name: string, generation: number): Promise<void> {
  const deadline = Date.now() + FENCE_CONFIRM_TIMEOUT_MS;
  while (!confirmsStopped(await get(t, name), generation)) {
    if (Date.now() > deadline) throw new UnavailableError(`${name} is not confirmed stopped after fencing; the role change waits for it`);
    await sleep(POLL_MS);
  }
}

/** Wait until `target` has received everything the stopped `former` wrote, up to the switchover's catch-up timeout. */
async function caughtUp(t: Transition, former: Instance, target: Instance, credentials: ReplicationCredentials): Promise<boolean> {
  const formerContext = await contextOf(t.services, t.engine, former);
  const formerHost = await t.services.users.hostOf(former);
  const deadline = Date.now() + t.settings.catchUpTimeoutMs;
  while (Date.now() < deadline) {
    const seen = await t.replication.probe(target.spec.port, credentials.admin);
    if (seen?.role === "secondary" && (await t.replication.caughtUp(formerContext, seen, formerHost))) return true;
    await sleep(POLL_MS);
  }
  return false;
}

interface Attempt {
  from: string;
  to: string;
  reason: RoleChange["reason"];
  credentials: ReplicationCredentials;
  why: string;
}

/** The target cannot be promoted: a failover tries the next best replica; otherwise the old primary comes back. */
async function retargetOrAbort(t: Transition, attempt: Attempt): Promise<TransitionOutcome> {
  const target = await get(t, attempt.to);
  // Whatever state it is in, the failed target must not run as a primary beside the next one.
  if (target !== undefined && target.spec.replication?.fenced !== true) await fence(t, target);
  if (attempt.reason === "Failover") {
    const next = await nextCandidate(t, attempt);
    if (next !== undefined) {
      await writeRoleChange(t, next, { to: next, message: `${attempt.why}; trying ${next}` });
      await t.services.events.record(t.cluster, "Warning", "FailoverRetarget", `${attempt.why}; promoting ${next} instead`);
      return "retargeted";
    }
  }
  return abort(t, attempt.from, `${attempt.why}; ${attempt.from} stays primary`);
}

/**
 * A failover, with the old primary fenced (nothing of it runs any more): the replicas' positions are final; promote the one
 * that is now the most advanced (it may have received more after the failover was decided), or give up when too
 * few answer to be sure of every acknowledged commit. Undefined: promote the target.
 */
async function settledChoice(t: Transition, attempt: Attempt): Promise<TransitionOutcome | undefined> {
  if (attempt.reason !== "Failover") return undefined;
  const ranked = await rankedReplicas(t, attempt.credentials, [attempt.from]);
  const blocked = t.failoverBlock?.(attempt.from, ranked);
  if (blocked !== undefined) return abort(t, attempt.from, `${blocked}; ${attempt.from} stays primary`);
  const best = ranked[0];
  if (best === undefined || best === attempt.to) return undefined;
  await writeRoleChange(t, best, { to: best, message: `${best} received more than ${attempt.to} before ${attempt.from} stopped; promoting ${best}` });
  await t.services.events.record(t.cluster, "Normal", "FailoverRetarget", `${best} is the most advanced replica once ${attempt.from} stopped; promoting it instead of ${attempt.to}`);
  return "retargeted";
}

async function nextCandidate(t: Transition, attempt: Attempt): Promise<string | undefined> {
  const ranked = await rankedReplicas(t, attempt.credentials, [attempt.from, attempt.to]);
  // The failed target is not among them: the others alone must be enough to hold every acknowledged commit.
  return t.failoverBlock?.(attempt.from, ranked) === undefined ? ranked[0] : undefined;
}

/** The component's ready, unfenced replicas answering as such now, best first, leaving out `exclude`. */
async function rankedReplicas(t: Transition, credentials: ReplicationCredentials, exclude: readonly string[]): Promise<string[]> {
  const instances = await t.services.store.list<Instance>("Instance", { namespace: t.cluster.metadata.namespace ?? "default" });
  const others = instances.items.filter((i) => i.spec.clusterName === t.cluster.metadata.name && i.spec.componentName === t.component && !exclude.includes(i.metadata.name));
  const candidates = [];
  for (const instance of others) {
    if (instance.status?.ready !== true || instance.spec.replication?.fenced === true) continue;
    const observation = await t.replication.probe(instance.spec.port, credentials.admin);
    if (observation?.role === "secondary") candidates.push({ instanceName: instance.metadata.name, observation });
  }
  return t.replication.rankCandidates(candidates);
}

/** Give up before any promotion: the old primary is unfenced (it restarts as primary) and the change is recorded as failed. */
async function abort(t: Transition, from: string, message: string): Promise<TransitionOutcome> {
  await patchObject<Instance>(t.services.store, instanceRef(t.cluster, from), (current) => {
    const { fenced: _fenced, ...rest } = current.spec.replication ?? {};
    return { ...current, spec: { ...current.spec, role: "primary", replication: rest } };
  });
  await writeRoleChange(t, from, { result: "Failed", message, finishedAt: now() });
  await t.services.events.record(t.cluster, "Warning", `${roleChangeOf(t)?.reason ?? "Switchover"}Failed`, message);
  return "aborted";
}

/** The promotion is done: the new primary's spec and the cluster's record say so. */
async function finish(t: Transition, done: { from: string; to: string; reason: RoleChange["reason"]; fencedMs: number; totalMs: number }): Promise<void> {
  await patchObject<Instance>(t.services.store, instanceRef(t.cluster, done.to), (current) => ({
    ...current,
    spec: { ...current.spec, role: "primary", replication: t.fenceOnExitAfter ? { fenceOnExit: true } : {} },
  }));
  const message = `${done.to} is primary ${Math.round(done.totalMs)} ms after the role change began (${done.from} fenced in ${Math.round(done.fencedMs)} ms); ${done.from} rejoins as its replica`;
  await writeRoleChange(t, done.to, { result: "Succeeded", message, finishedAt: now() }, done.to);
  await t.services.events.record(t.cluster, "Normal", done.reason === "Failover" ? "FailedOver" : "SwitchedOver", message);
}

/** Record the target primary (and the current one, once promoted) with the role change's progress. */
async function writeRoleChange(t: Transition, target: string, change: Partial<RoleChange>, current?: string): Promise<void> {
  try {
    await patchStatus<Cluster>(t.services.store, clusterRef(t.cluster), (cluster) => {
      const record = cluster.status?.replication?.[t.component] ?? {};
      const roleChange = record.roleChange === undefined ? undefined : { ...record.roleChange, ...change };
      const next = { ...record, targetPrimary: target, ...(current === undefined ? {} : { currentPrimary: current }), ...(roleChange === undefined ? {} : { roleChange }) };
      return { ...cluster, status: { ...cluster.status, replication: { ...cluster.status?.replication, [t.component]: next } } };
    });
  } catch (error) {
    throw new UnavailableError(`cannot record the role change of ${t.cluster.metadata.name}/${t.component}: ${errorMessage(error)}`, { cause: error });
  }
}
