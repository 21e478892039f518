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
