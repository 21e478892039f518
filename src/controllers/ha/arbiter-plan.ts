/**
 * Decisions about a component whose engine brings arbiters (Redis Sentinel), without I/O: the arbiters say who
 * is primary; these functions turn that into the record, the members' specs, and when a stopped primary may start.
 */
import { heldAfterExit, type ComponentReplicationStatus, type Instance, type InstanceReplicationSpec, type RoleChange } from "../../api/index.ts";
import { sameReplicationSpec, type Member } from "./plan.ts";

/** What the record should become now that the arbiters agree on `agreed` (or no majority answered: undefined). */
export type RecordChange =
  | { kind: "none"; primary: string }
  | { kind: "initialise"; primary: string }
  | { kind: "followArbiters"; from: string; primary: string };

/**
 * The arbiters are the authority: a primary a majority names replaces the recorded one; without a majority the
 * record stands (or, for a new component, the member created as primary) (pure).
 */
export function followArbiters(record: ComponentReplicationStatus | undefined, agreed: string | undefined, initial: string): RecordChange {
  const current = record?.currentPrimary;
  if (current === undefined) return { kind: "initialise", primary: agreed ?? initial };
  if (agreed === undefined || agreed === current) return { kind: "none", primary: current };
  return { kind: "followArbiters", from: current, primary: agreed };
}

/** A switchover asked for (the record's target differs from its current primary); undefined when none is. */
export function requestedSwitchover(record: ComponentReplicationStatus | undefined): { from: string; to: string } | undefined {
  const from = record?.currentPrimary;
  const to = record?.targetPrimary;
  return from === undefined || to === undefined || to === from ? undefined : { from, to };
}

/** The role change to record when the arbiters promoted `to` in place of `from` on their own. */
export function arbiterFailover(from: string, to: string, arbiters: number, at: string): RoleChange {
  return { reason: "Failover", from, to, result: "Succeeded", message: `a majority of the ${arbiters} arbiters promoted ${to} in place of ${from}`, startedAt: at, finishedAt: at };
}

/**
 * The spec each member should have: the primary fences itself on an unexpected exit when there are replicas (the
 * arbiters then choose its successor before it may start again); the others replicate from it. A fence stays
 * until `releasable` lifts it (pure).
 */
export function arbitratedSpecs(members: readonly Member[], primary: string): { name: string; role: "primary" | "secondary"; replication: InstanceReplicationSpec }[] {
  return members.map((m) => {
    const fenced = m.instance.spec.replication?.fenced === true ? { fenced: true } : {};
    if (m.name === primary) return { name: m.name, role: "primary", replication: { ...(members.length > 1 ? { fenceOnExit: true } : {}), ...fenced } };
    return { name: m.name, role: "secondary", replication: { upstream: primary, ...fenced } };
  });
}

/** Does `instance` need `desired` written? */
export function arbitratedSpecDiffers(instance: Instance, desired: { role: string; replication: InstanceReplicationSpec }): boolean {
  return instance.spec.role !== desired.role || !sameReplicationSpec(instance.spec.replication, desired.replication);
}

/**
 * May the fenced member start again? Once the arbiters name another primary it starts as that one's replica
 * (it asks them before it starts); while they still name it, only after their failover window since it stopped,
 * when they evidently will not replace it (no replica to promote, or no majority): then it restarts in place (pure).
 */
export function releasable(member: Member, agreed: string | undefined, failoverWindowMs: number, nowMs: number): boolean {
  const stopped = member.instance.spec.replication?.fenced === true || heldAfterExit(member.instance);
  if (!stopped || !member.instance.spec.running) return false;
  if (agreed !== undefined && agreed !== member.name) return true;
  const stoppedAt = Date.parse(member.instance.status?.lastTerminatedAt ?? "");
  return !Number.isFinite(stoppedAt) || nowMs - stoppedAt >= failoverWindowMs;
}
