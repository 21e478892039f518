/** A member of a replicated component as the ha controller sees it: from its node agent's report, never a probe of its own. */
import type { Instance } from "../../api/index.ts";
import { observationOf } from "../../agent/index.ts";
import type { Member } from "./plan.ts";

/**
 * A member as its node agent reports it: what its last probe saw and how many probes in a row went unanswered; a
 * member that is not meant to run, is fenced, or has no process is not probed (what it reported before is stale).
 */
export function memberOf(instance: Instance): Member {
  const probeable = instance.spec.running && instance.spec.replication?.fenced !== true && instance.status?.pid !== undefined;
  const state = instance.status?.replicationState;
  return { name: instance.metadata.name, instance, observation: probeable ? observationOf(state) : undefined, failures: probeable ? (state?.failures ?? 0) : 0 };
}
