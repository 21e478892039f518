/**
 * Rolling restarts of replicated components (pure), as KubeBlocks' InstanceSet updates members by role: a change that
 * restarts instances (new parameters, version or restart request) reaches one instance at a time, replicas first
 * (highest ordinal first), each once every other member is ready again; the primary goes last, after a switchover has
 * made it a replica, so writers see one switchover and no other pause. A change lowering a parameter a replica needs at
 * least as high as its primary's goes the other way: the primary restarted in place first, then the replicas
 * (rollingOrder, ADR 0041). Changes that need no restart pass straight through.
 */
import { instanceConfigHash, instanceNeedsRestart, type Cluster, type ComponentReplicationStatus, type Instance, type InstanceSpec } from "../../api/index.ts";
import { rollingOrder } from "../../engines/index.ts";
import type { InstanceToCreate, ResolvedComponent } from "./plan.ts";
import { specDiffers } from "./spec-compare.ts";

/** A switchover the rollout asks the ha controller for, before it restarts the primary. */
export interface RolloutSwitchover {
  component: string;
  from: string;
  to: string;
}

/** What reaches the instances in this pass, and what waits for its turn. */
export interface Rollout {
  updates: InstanceToCreate[];
  /** Instances whose restarting change waits for its turn, per component. */
  held: Map<string, string[]>;
  switchovers: RolloutSwitchover[];
}

/** What `requestedBy` says on a switchover the rollout asked for. */
export const ROLLOUT_REQUESTER = "rolling-restart";

/** The fields whose change restarts a running instance (instanceConfigHash, and a restart request). */
const RESTART_FIELDS = ["engine", "version", "parameters", "liveParameters", "clientTls", "restartRequest"] as const;

/** Would this spec change restart the running instance (its start configuration or restart request differ)? */
export function restartsInstance(live: InstanceSpec, desired: Omit<InstanceSpec, "port">): boolean {
  if ((live.restartRequest ?? "") !== (desired.restartRequest ?? "")) return true;
  return instanceConfigHash(live) !== instanceConfigHash({ ...desired, port: live.port });
}

/** `desired` with the fields that restart the instance kept as they are on `live`. */
function withoutRestart(live: InstanceSpec, desired: Omit<InstanceSpec, "port">): Omit<InstanceSpec, "port"> {
  const restarting = new Set<string>(RESTART_FIELDS);
  const rest = Object.entries(desired).filter(([field]) => !restarting.has(field));
  const kept = RESTART_FIELDS.flatMap((field) => (live[field] === undefined ? [] : [[field, live[field]] as const]));
  return Object.fromEntries([...rest, ...kept]) as Omit<InstanceSpec, "port">;
}

/** Is a member settled: ready, running the spec it has, with no switchover or failover under way? */
function settled(instance: Instance): boolean {
  return instance.status?.ready === true && !instanceNeedsRestart(instance) && instance.metadata.deletionTimestamp === undefined;
}

function changing(record: ComponentReplicationStatus | undefined): boolean {
  return record?.currentPrimary === undefined || (record.targetPrimary ?? record.currentPrimary) !== record.currentPrimary;
}

/** The ready replica with the least lag (then by name) that has nothing left to restart. */
function switchoverTarget(members: readonly Instance[], primary: string, pending: ReadonlySet<string>): string | undefined {
  const lag = (i: Instance): number => i.status?.replication?.lagBytes ?? Number.MAX_SAFE_INTEGER;
  return members
    .filter((i) => i.metadata.name !== primary && !pending.has(i.metadata.name) && settled(i) && i.status?.role === "secondary" && i.spec.replication?.fenced !== true)
    .sort((a, b) => lag(a) - lag(b) || a.metadata.name.localeCompare(b.metadata.name))[0]?.metadata.name;
}

interface ComponentTurn {
  allowed?: string;
  switchover?: RolloutSwitchover;
}

/** One component's rolling change as this pass sees it. */
interface ComponentRoll {
  component: ResolvedComponent;
  members: readonly Instance[];
  /** Members with a change that restarts them. */
  pending: readonly Instance[];
  record: ComponentReplicationStatus | undefined;
  updates: readonly InstanceToCreate[];
}

function parametersAfter(roll: ComponentRoll, member: Instance): Record<string, string> {
  return roll.updates.find((u) => u.name === member.metadata.name)?.spec.parameters ?? member.spec.parameters;
}

/** Must the change from `from` to `to` reach the primary first (it lowers a replica-floor parameter, rollingOrder)? */
function lowers(roll: ComponentRoll, from: Record<string, string>, to: Record<string, string>): boolean {
  return rollingOrder(roll.component.parameterSchema, from, to) === "primary-first";
}

/**
 * Has the primary reported the replica streaming since the primary's running process started? A replica restarted
 * with a lowered replica-floor parameter starts only once it has replayed the restarted primary's new values.
 */
function streamsFromCurrentPrimary(replica: Instance, primary: Instance | undefined): boolean {
  const seen = replica.status?.replication;
  const started = Date.parse(primary?.status?.startedAt ?? "");
  return seen?.state === "streaming" && Number.isFinite(started) && (Date.parse(seen.observedAt ?? "") || 0) >= started;
}

/** May this pending replica restart now: not below what the primary runs with, and, when it lowers its own values, caught up? */
function replicaMayGo(roll: ComponentRoll, replica: Instance, primary: Instance | undefined): boolean {
  const after = parametersAfter(roll, replica);
  if (primary !== undefined && lowers(roll, primary.spec.parameters, after)) return false;
  return !lowers(roll, replica.spec.parameters, after) || streamsFromCurrentPrimary(replica, primary);
}

/**
 * During the rollout's own switchover, the former primary once fenced (stopped): its change is given to it now, so it
 * starts as a replica with the new values (one start, and never a replica below the new primary's values).
 */
function formerPrimaryTurn(roll: ComponentRoll): ComponentTurn {
  const change = roll.record?.roleChange;
  if (change?.requestedBy !== ROLLOUT_REQUESTER || change.result !== "InProgress") return {};
  const former = roll.pending.find((i) => i.metadata.name === change.from);
  return former?.spec.replication?.fenced === true ? { allowed: former.metadata.name } : {};
}

/**
 * Whose turn it is in one component (the ordering rule, ADR 0041): nobody while a member is busy; the primary first,
 * restarted in place, when its change lowers a replica-floor parameter; else the highest pending replica that may go;
 * else the primary, after a switchover when a replica can take over.
 */
function turnOf(roll: ComponentRoll): ComponentTurn {
  const { members, pending, record } = roll;
  if (changing(record)) return formerPrimaryTurn(roll);
  if (!members.every(settled)) return {};
  const name = record?.currentPrimary ?? "";
  const primary = members.find((i) => i.metadata.name === name);
  const primaryPending = pending.some((i) => i.metadata.name === name);
  if (primaryPending && primary !== undefined && lowers(roll, primary.spec.parameters, parametersAfter(roll, primary))) return { allowed: name };
  const replicas = pending.filter((i) => i.metadata.name !== name).sort((a, b) => b.spec.ordinal - a.spec.ordinal);
  if (replicas.length > 0) {
    const next = replicas.find((r) => replicaMayGo(roll, r, primary));
    return next === undefined ? {} : { allowed: next.metadata.name };
  }
  const to = switchoverTarget(members, name, new Set(pending.map((i) => i.metadata.name)));
  return to === undefined ? { allowed: name } : { switchover: { component: roll.component.name, from: name, to } };
}

/** Does the component roll (a running replicated component with more than one member)? */
function rolls(component: ResolvedComponent, members: readonly Instance[]): boolean {
  return component.replicated === true && !component.stopped && members.length > 1;
}

/** Limit the planned updates to what may reach the instances now. */
export function planRollout(cluster: Cluster, components: readonly ResolvedComponent[], live: readonly Instance[], updates: readonly InstanceToCreate[]): Rollout {
  const byName = new Map(live.map((i) => [i.metadata.name, i]));
  const rollout: Rollout = { updates: [], held: new Map(), switchovers: [] };
  const turns = new Map<string, ComponentTurn>();
  for (const component of components) {
    const members = live.filter((i) => i.spec.componentName === component.name && i.spec.replication !== undefined && i.metadata.deletionTimestamp === undefined);
    const pending = members.filter((m) => updates.some((u) => u.name === m.metadata.name && m.spec.running && restartsInstance(m.spec, u.spec)));
    if (!rolls(component, members) || pending.length === 0) continue;
    const turn = turnOf({ component, members, pending, record: cluster.status?.replication?.[component.name], updates });
    turns.set(component.name, turn);
    if (turn.switchover !== undefined) rollout.switchovers.push(turn.switchover);
    const held = pending.map((p) => p.metadata.name).filter((name) => name !== turn.allowed);
    if (held.length > 0) rollout.held.set(component.name, held);
  }
  const isHeld = (name: string, component: string): boolean => rollout.held.get(component)?.includes(name) === true;
  for (const update of updates) {
    const instance = byName.get(update.name);
    if (instance === undefined || !isHeld(update.name, update.spec.componentName)) {
      rollout.updates.push(update);
      continue;
    }
    const kept = withoutRestart(instance.spec, update.spec);
    if (specDiffers(instance.spec, kept)) rollout.updates.push({ name: update.name, spec: kept });
  }
  return rollout;
}

/** The replication record of a component with the rollout's switchover asked for. */
export function rolloutSwitchoverRecord(record: ComponentReplicationStatus | undefined, switchover: RolloutSwitchover, at: string): ComponentReplicationStatus {
  return { ...record, targetPrimary: switchover.to, roleChange: { reason: "Switchover", requestedBy: ROLLOUT_REQUESTER, from: switchover.from, to: switchover.to, result: "InProgress", startedAt: at } };
}
