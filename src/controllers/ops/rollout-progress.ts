/**
 * Progress of a change the cluster controller rolls out to instances (VerticalScaling, Reconfiguring, and their
 * cancels), judged from the instances (pure): each is done once it runs ready with the parameters its component asks for.
 */
import { isDeepStrictEqual } from "node:util";
import { instanceLiveConfigPending, instanceNeedsRestart, type Cluster, type Instance, type OpsRequest, type ProgressDetail } from "../../api/index.ts";
import type { OpsProgress } from "./progress.ts";

/** Is the instance running ready with `parameters` and nothing left to apply? */
function applied(instance: Instance, parameters: Record<string, string>): boolean {
  return instance.status?.ready === true && !instanceNeedsRestart(instance) && !instanceLiveConfigPending(instance) && isDeepStrictEqual(instance.spec.parameters, parameters);
}

function detailOf(instance: Instance, parameters: Record<string, string>): ProgressDetail {
  const objectKey = `Instance/${instance.metadata.name}`;
  const group = instance.spec.componentName;
  if (applied(instance, parameters)) return { group, objectKey, status: "Succeed", message: "running with the new configuration" };
  if (isDeepStrictEqual(instance.spec.parameters, parameters)) return { group, objectKey, status: "Processing", message: instanceNeedsRestart(instance) ? `restarting (${instance.status?.phase ?? "Pending"})` : "applying the parameters live" };
  return { group, objectKey, status: "Pending", message: "waiting for its turn in the rolling restart" };
}

/** Progress over the instances of `desired`'s components; finished once each component runs with every instance done. */
export function rolloutProgress(ops: OpsRequest, cluster: Cluster, instances: readonly Instance[], desired: ReadonlyMap<string, Record<string, string>>): OpsProgress {
  return instancesProgress(ops, cluster, instances, { components: [...desired.keys()], detail: (i) => detailOf(i, desired.get(i.spec.componentName) ?? {}) });
}

/** What a rolled-out change is judged on: its components, and each instance's detail (Succeed when done). */
export interface RolloutJudge {
  components: readonly string[];
  detail: (instance: Instance) => ProgressDetail;
}

/** Progress over the instances of `judge`'s components; finished once the cluster saw the change, each component runs and every instance is done. */
export function instancesProgress(ops: OpsRequest, cluster: Cluster, instances: readonly Instance[], judge: RolloutJudge): OpsProgress {
  const generationSeen = (cluster.status?.observedGeneration ?? 0) >= (ops.status?.clusterGeneration ?? 0);
  const affected = instances.filter((i) => judge.components.includes(i.spec.componentName) && i.metadata.deletionTimestamp === undefined);
  const details = affected.map(judge.detail).sort((a, b) => a.objectKey.localeCompare(b.objectKey));
  const done = details.filter((d) => d.status === "Succeed").length;
  const running = judge.components.every((c) => cluster.status?.components?.[c]?.phase === "Running");
  const crashed = affected.find((i) => i.status?.phase === "Failed");
  const pending = details.find((d) => d.status !== "Succeed");
  return {
    done,
    total: affected.length,
    finished: generationSeen && running && affected.length > 0 && done === affected.length,
    details,
    ...(pending === undefined ? {} : { waitingFor: `${pending.objectKey} (${pending.message ?? pending.status})` }),
    ...(crashed === undefined ? {} : { failure: `instance ${crashed.metadata.name} failed: ${crashed.status?.message ?? "unknown reason"}` }),
  };
}
