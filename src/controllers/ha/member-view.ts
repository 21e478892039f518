/** A member of a replicated component as the ha controller sees it: from its node agent's report, never a probe of its own. */
import type { Instance } from "../../api/index.ts";
import { observationOf } from "../../agent/index.ts";
import { instanceNodeCondition } from "../node/index.ts";
import { lostPrimaryLease, type Member, type PrimaryLeaseView } from "./plan.ts";

/**
 * A member as its node agent reports it: what its last probe saw and how many probes in a row went unanswered; a
 * member that is not meant to run, is fenced, or has no process is not probed (what it reported before is stale).
 */
export function memberOf(instance: Instance): Member {
  const probeable = instance.spec.running && instance.spec.replication?.fenced !== true && instance.status?.pid !== undefined;
  const state = instance.status?.replicationState;
  return { name: instance.metadata.name, instance, observation: probeable ? observationOf(state) : undefined, failures: probeable ? (state?.failures ?? 0) : 0 };
}

/**
 * The members with those whose node agent cannot be heard marked so (its node is not Ready, or it held the primary
 * lease and lost it): their last report is stale, so they are neither probed nor counted in any role.
 */
export function withReachability(members: readonly Member[], lease: PrimaryLeaseView | undefined): Member[] {
  return members.map((m) => {
    // A lost lease speaks only of a member last reported as primary: a former primary whose node came back and that
    // rejoined as a replica may still carry the claim from before its node was lost, and answers for itself again.
    const lostLease = m.instance.status?.role !== "secondary" && lostPrimaryLease(m, lease);
    const unreachable = instanceNodeCondition(m.instance)?.status === "False" || lostLease;
    return unreachable ? { ...m, observation: undefined, failures: 0, unreachable } : m;
  });
}

/** Where the controllers run and since when: their own node's agent lives in the same process. */
export interface LocalTerm {
  /** The node these controllers (and the node agent beside them) run on. */
  nodeName: string;
  /** How long these controllers have led. */
  leadingForMs: number;
}

/**
 * The primary lease as the controllers may judge it. A lease that lapsed while a primary's node agent was down is
 * lost, and a failover follows (ADR 0029) — except right after these controllers began to lead when the primary is on
 * their own node: then the node agent beside them started with them (the process restarted, slower than the lease),
 * is alive, and takes the lease back at its first pass, or fences the primary if another holder took it. For one
 * grace period (two lease durations, at least 10 s) the lease is judged unknown there, as when the store cannot say.
 */
export function judgedLease(lease: PrimaryLeaseView | undefined, primary: Instance | undefined, term: LocalTerm | undefined, leaseDurationMs: number): PrimaryLeaseView | undefined {
  if (lease === undefined || primary === undefined || term === undefined) return lease;
  const claimed = primary.status?.primaryLease?.holder;
  if (claimed === undefined || lease.holder === claimed) return lease;
  const local = primary.spec.nodeName === term.nodeName;
  return local && term.leadingForMs < Math.max(2 * leaseDurationMs, 10_000) ? undefined : lease;
}
