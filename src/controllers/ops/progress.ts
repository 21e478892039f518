/** How far an OpsRequest has come, judged from the cluster and its instances (pure). */
import type { Cluster, Instance, OpsRequest, ProgressDetail } from "../../api/index.ts";
import { switchoverProgress } from "./switchover.ts";

export interface OpsProgress {
  done: number;
  total: number;
  finished: boolean;
  /** Set when the operation cannot succeed any more. */
  failure?: string;
  /** What it did, appended to the success message (e.g. where an exposed endpoint is reached). */
  outcome?: string;
  /** What the operation waits for now, for the message of a timeout. */
  waitingFor?: string;
  /** Per object (status.progressDetails). */
  details?: ProgressDetail[];
}

/** The components an operation acts on: those it lists, else every component of the cluster. */
export function targetComponents(ops: OpsRequest, cluster: Cluster): string[] {
  const listed = ops.spec.restart?.map((c) => c.componentName);
  return listed && listed.length > 0 ? listed : cluster.spec.componentSpecs.map((c) => c.name);
}

/** Progress of Start, Stop or Restart. */
export function opsProgress(ops: OpsRequest, cluster: Cluster, instances: readonly Instance[]): OpsProgress {
  const generationSeen = (cluster.status?.observedGeneration ?? 0) >= (ops.status?.clusterGeneration ?? 0);
  const phase = cluster.status?.phase;
  switch (ops.spec.type) {
    case "Start":
      return fromInstances(instances, (i) => i.status?.ready === true, generationSeen && phase === "Running");
    case "Stop":
      return fromInstances(instances, (i) => i.status?.phase === "Stopped", generationSeen && phase === "Stopped");
    case "Restart": {
      const token = restartToken(ops);
      const targets = new Set(targetComponents(ops, cluster));
      const affected = instances.filter((i) => targets.has(i.spec.componentName));
      const restarted = (i: Instance): boolean => i.status?.appliedRestartRequest === token && i.status.ready === true;
      return fromInstances(affected, restarted, affected.length > 0 && affected.every(restarted));
    }
    case "Switchover":
      return switchoverProgress(ops, cluster, instances);
    default:
      return { done: 0, total: 0, finished: false, failure: `operation type ${ops.spec.type} is not supported by this build` };
  }
}

function fromInstances(instances: readonly Instance[], isDone: (i: Instance) => boolean, finished: boolean): OpsProgress {
  const crashed = instances.find((i) => i.status?.phase === "Failed");
  const pending = instances.find((i) => !isDone(i));
  return {
    ...(pending === undefined ? {} : { waitingFor: `instance ${pending.metadata.name} (it is ${pending.status?.phase ?? "Pending"})` }),
    done: instances.filter(isDone).length,
    total: instances.length,
    finished,
    ...(crashed ? { failure: `instance ${crashed.metadata.name} failed: ${crashed.status?.message ?? "unknown reason"}` } : {}),
  };
}

/** The value written to the restart annotation: unique per OpsRequest. */
export function restartToken(ops: OpsRequest): string {
  return `${ops.metadata.name}/${ops.metadata.uid ?? ""}`;
}
