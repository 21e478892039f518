/** The backup controller's decisions, without I/O: what to back up, and the status a finished backup reports. */
import { expirationOf, formatGoDuration, targetOf, type Backup, type BackupPolicy, type BackupStatus, type Instance } from "../../api/index.ts";
import type { BackupSummary } from "../../backup/index.ts";
import { selectTargetInstance } from "../../dataprotection/index.ts";
import { expirationFor } from "./retention.ts";

/** Labels naming a cluster and component in a policy's pod selector. */
export const SELECTOR_CLUSTER = "app.kubernetes.io/instance";
export const SELECTOR_COMPONENT = "apps.kubeblocks.io/component-name";

/** What a new backup will be taken of. */
export interface BackupTargetChoice {
  cluster: string;
  component: string;
  instance: Instance;
}

/** The target of a new backup, or why there is none (which fails the backup). */
export function chooseTarget(backup: Backup, policy: BackupPolicy, instances: readonly Instance[]): BackupTargetChoice | { failure: string } {
  const method = policy.spec.backupMethods.find((m) => m.name === backup.spec.backupMethod);
  if (method === undefined) {
    const known = policy.spec.backupMethods.map((m) => m.name).join(", ");
    return { failure: `backup method ${backup.spec.backupMethod} is not in BackupPolicy ${policy.metadata.name} (it has: ${known})` };
  }
  const selector = targetOf(policy, method.name)?.podSelector;
  const cluster = selector?.matchLabels?.[SELECTOR_CLUSTER];
  const component = selector?.matchLabels?.[SELECTOR_COMPONENT];
  if (selector === undefined || cluster === undefined || component === undefined) {
    return { failure: `BackupPolicy ${policy.metadata.name} does not select a cluster component: its target.podSelector.matchLabels need ${SELECTOR_CLUSTER} and ${SELECTOR_COMPONENT}` };
  }
  const instance = selectTargetInstance(selector, instances);
  if (instance === undefined) return { failure: `no ready instance of cluster ${cluster} component ${component} matches BackupPolicy ${policy.metadata.name}; wait for the cluster to be Running and back up again` };
  return { cluster, component, instance };
}

/** Sizes as KubeBlocks writes them: bytes without a unit. */
function size(bytes: number): string {
  return String(bytes);
}

/** The status of a backup whose data is committed. */
export function completedStatus(backup: Backup, summary: Pick<BackupSummary, "manifestSha256" | "plaintextBytes" | "storedBytes" | "completedAt">, now: string): BackupStatus {
  const { failureReason: _previousFailure, ...status } = backup.status ?? {};
  const start = status.startTimestamp ?? summary.completedAt;
  const expiration = expirationOf(start, backup.spec.retentionPeriod);
  return {
    ...status,
    phase: "Completed",
    completionTimestamp: now,
    duration: formatGoDuration(Date.parse(now) - Date.parse(start)),
    totalSize: size(summary.plaintextBytes),
    storedSize: size(summary.storedBytes),
    manifestSha256: summary.manifestSha256,
    timeRange: { start, end: summary.completedAt },
    ...(expiration === undefined ? {} : { expiration }),
  };
}

/** The status of a backup that failed. */
export function failedStatus(backup: Backup, reason: string, now: string): BackupStatus {
  const status = backup.status ?? {};
  const start = status.startTimestamp ?? now;
  return { ...status, phase: "Failed", failureReason: reason, completionTimestamp: now, duration: formatGoDuration(Date.parse(now) - Date.parse(start)), ...expirationFor(backup, start) };
}

/** Has a finished backup's retention run out? */
export function isExpired(backup: Backup, now: number): boolean {
  const expiration = backup.status?.expiration;
  return expiration !== undefined && Date.parse(expiration) <= now;
}
