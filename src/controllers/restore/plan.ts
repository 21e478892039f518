/** The status of a Restore (dataprotection.kubeblocks.io), judged from the cluster it created (pure, ADR 0051). */
import { formatGoDuration, restoredBy, type Cluster, type Restore, type RestoreAction, type RestoreStatus } from "../../api/index.ts";

/** The next status of a running Restore given its cluster (undefined: the cluster was deleted), or undefined when unchanged. */
export function followRestore(restore: Restore, labels: Record<string, string>, cluster: Cluster | undefined, nowIso: string): RestoreStatus | undefined {
  const objectKey = `Cluster/${cluster?.metadata.name ?? ""}`;
  if (cluster === undefined) return finished(restore, "Failed", action(restore, objectKey, "Failed", "the cluster was deleted before its restore completed"), nowIso);
  if (!restoredBy(labels, cluster)) return finished(restore, "Failed", action(restore, objectKey, "Failed", `cluster ${cluster.metadata.name} was not created by this Restore`), nowIso);
  const phase = cluster.status?.phase;
  if (phase === "Running") return finished(restore, "Completed", action(restore, objectKey, "Completed", "the cluster is Running"), nowIso);
  if (phase === "Failed") return finished(restore, "Failed", action(restore, objectKey, "Failed", cluster.status?.message ?? "the cluster failed"), nowIso);
  return undefined;
}

/** The status of a Restore that has just created its cluster. */
export function startedRestore(restore: Restore, clusterName: string, nowIso: string): RestoreStatus {
  return { ...restore.status, phase: "Running", startTimestamp: nowIso, actions: { prepareData: [{ name: "restore", objectKey: `Cluster/${clusterName}`, status: "Processing", startTime: nowIso }] } };
}

function action(restore: Restore, objectKey: string, status: RestoreAction["status"], message: string): RestoreAction {
  const previous = restore.status?.actions?.prepareData?.[0];
  return { name: "restore", objectKey: previous?.objectKey ?? objectKey, status, message, ...(previous?.startTime === undefined ? {} : { startTime: previous.startTime }) };
}

function finished(restore: Restore, phase: "Completed" | "Failed", done: RestoreAction, nowIso: string): RestoreStatus {
  const started = restore.status?.startTimestamp;
  const duration = started === undefined ? {} : { duration: formatGoDuration(Date.parse(nowIso) - Date.parse(started)) };
  return { ...restore.status, phase, completionTimestamp: nowIso, ...duration, actions: { prepareData: [{ ...done, endTime: nowIso }] } };
}
