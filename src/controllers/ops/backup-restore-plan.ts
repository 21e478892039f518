/** How far a Backup or Restore OpsRequest has come, from the Backup or the restored Cluster (pure, ADR 0051). */
import { OPS_NAME_LABEL, restoredBy, type Backup, type Cluster, type OpsRequest } from "../../api/index.ts";
import type { OpsProgress } from "./progress.ts";

/** A Backup OpsRequest follows its Backup: 0/1 while it runs, 1/1 and finished once Completed, failed with its reason. */
export function backupOpsProgress(name: string, backup: Backup | undefined): OpsProgress {
  const objectKey = `Backup/${name}`;
  if (backup === undefined) return { done: 0, total: 1, finished: false, failure: `backup ${name} was deleted before it completed`, details: [{ objectKey, status: "Failed", message: "deleted" }] };
  const phase = backup.status?.phase ?? "New";
  if (phase === "Completed") {
    const size = backup.status?.totalSize === undefined ? "" : `, ${backup.status.totalSize} bytes`;
    return { done: 1, total: 1, finished: true, outcome: `backup ${name} Completed${size}`, details: [{ objectKey, status: "Succeed", message: "Completed" }] };
  }
  if (phase === "Failed") {
    const reason = backup.status?.failureReason ?? "no reason recorded";
    return { done: 0, total: 1, finished: false, failure: `backup ${name} failed: ${reason}`, details: [{ objectKey, status: "Failed", message: reason }] };
  }
  return { done: 0, total: 1, finished: false, waitingFor: `backup ${name} (it is ${phase})`, details: [{ objectKey, status: "Processing", message: phase }] };
}

/** Whether `cluster` was made by this Restore OpsRequest (its label names the request). */
export function madeBy(ops: OpsRequest, cluster: Cluster): boolean {
  return restoredBy({ [OPS_NAME_LABEL]: ops.metadata.name }, cluster);
}

/** A Restore OpsRequest follows the cluster it made: finished once that cluster is Running, failed when it Failed. */
export function restoreOpsProgress(ops: OpsRequest, cluster: Cluster): OpsProgress {
  const objectKey = `Cluster/${cluster.metadata.name}`;
  const phase = cluster.status?.phase ?? "Creating";
  const seen = generationSeen(ops, cluster);
  if (!madeBy(ops, cluster)) {
    return { done: 0, total: 1, finished: false, failure: `cluster ${cluster.metadata.name} was not created by this OpsRequest: a Restore creates a new cluster`, details: [{ objectKey, status: "Failed" }] };
  }
  if (phase === "Running" && seen) {
    return { done: 1, total: 1, finished: true, outcome: `cluster ${cluster.metadata.name} restored from backup ${ops.spec.restore?.backupName ?? "?"}`, details: [{ objectKey, status: "Succeed", message: "Running" }] };
  }
  if (phase === "Failed") return restoreFailed(cluster, objectKey);
  return restoring(cluster, objectKey, phase);
}

/** The cluster's controller has seen the generation the request started from. */
function generationSeen(ops: OpsRequest, cluster: Cluster): boolean {
  return (cluster.status?.observedGeneration ?? 0) >= (ops.status?.clusterGeneration ?? 0);
}

function restoreFailed(cluster: Cluster, objectKey: string): OpsProgress {
  const reason = cluster.status?.message ?? "no reason recorded";
  return { done: 0, total: 1, finished: false, failure: `the restore of cluster ${cluster.metadata.name} failed: ${reason}`, details: [{ objectKey, status: "Failed", message: reason }] };
}

/** Still restoring: what the cluster says of itself. */
function restoring(cluster: Cluster, objectKey: string, phase: string): OpsProgress {
  const message = cluster.status?.message;
  return { done: 0, total: 1, finished: false, waitingFor: `cluster ${cluster.metadata.name} (it is ${phase}${message === undefined ? "" : `: ${message}`})`, details: [{ objectKey, status: "Processing", message: phase }] };
}
