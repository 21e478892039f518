/**
 * The objects a Backup or Restore OpsRequest makes (ADR 0051), built the same way by admission (to check them before
 * the request is accepted) and by the controller (to create them). Pure.
 */
import { CLUSTER_SNAPSHOT_ANNOTATION, type Backup } from "./backup.ts";
import { backupPolicyName } from "./backup-policy.ts";
import { parseRestoreTime } from "./cluster-restore.ts";
import type { OpsRequest } from "./ops-request.ts";

/** Label on the Backup or Cluster an OpsRequest made, naming that OpsRequest (KubeBlocks' label). */
export const OPS_NAME_LABEL = "operations.kubeblocks.io/ops-name";
const NAME_MAX = 63;

/** A cluster as these builders read it. */
export interface OpsTargetCluster {
  metadata: { name: string; namespace?: string | undefined };
  spec: { componentSpecs: readonly { name: string }[] };
}

/** `YYYYMMDDHHMMSS` of an RFC 3339 time (of now when absent or unreadable). */
function stamp(time: string | undefined): string {
  const parsed = time === undefined ? Number.NaN : Date.parse(time);
  return new Date(Number.isNaN(parsed) ? Date.now() : parsed).toISOString().replace(/[-:T]/g, "").slice(0, 14);
}

/** The Backup's name: `spec.backup.backupName`, else `<ops>-<creation time>` (the same on every call, so safe to repeat). */
export function opsBackupName(ops: OpsRequest): string {
  const given = ops.spec.backup?.backupName;
  if (given !== undefined) return given;
  const suffix = `-${stamp(ops.metadata.creationTimestamp)}`;
  return `${ops.metadata.name.slice(0, NAME_MAX - suffix.length).replace(/-+$/, "")}${suffix}`;
}

/** The BackupPolicy the Backup uses: the one named, else the policy of the cluster's first component. */
export function opsBackupPolicyName(ops: OpsRequest, cluster: OpsTargetCluster): string {
  return ops.spec.backup?.backupPolicyName ?? backupPolicyName(cluster.metadata.name, cluster.spec.componentSpecs[0]?.name ?? "");
}

/** The Backup a Backup OpsRequest creates; `defaultMethod` is the policy's first method, used when none is named. */
export function opsBackupObject(ops: OpsRequest, cluster: OpsTargetCluster, defaultMethod: string): Backup {
  const wanted = ops.spec.backup ?? {};
  return {
    apiVersion: "dataprotection.kubeblocks.io/v1alpha1",
    kind: "Backup",
    metadata: {
      name: opsBackupName(ops),
      namespace: ops.metadata.namespace ?? "default",
      labels: { "app.kubernetes.io/instance": cluster.metadata.name, [OPS_NAME_LABEL]: ops.metadata.name },
    },
    spec: {
      backupPolicyName: opsBackupPolicyName(ops, cluster),
      backupMethod: wanted.backupMethod ?? defaultMethod,
      deletionPolicy: wanted.deletionPolicy ?? "Delete",
      ...(wanted.retentionPeriod === undefined ? {} : { retentionPeriod: wanted.retentionPeriod }),
      ...(wanted.parentBackupName === undefined ? {} : { parentBackupName: wanted.parentBackupName }),
    },
  };
}

/** A new cluster restored from a backup: the source's spec (without any restore of its own) plus spec.restore naming the backup. */
export function restoredClusterManifest(name: string, namespace: string, sourceSpec: Record<string, unknown>, backup: { name: string; namespace: string; restoreTime?: string }) {
  const { restore: _previous, ...spec }: Record<string, unknown> = sourceSpec;
  const source = { apiGroup: "dataprotection.kubeblocks.io", kind: "Backup", name: backup.name, namespace: backup.namespace };
  return {
    apiVersion: "apps.kubeblocks.io/v1",
    kind: "Cluster",
    metadata: { name, namespace } as { name: string; namespace: string; labels?: Record<string, string> },
    spec: { ...spec, restore: { source, ...(backup.restoreTime === undefined ? {} : { restoreTime: backup.restoreTime }) } } as Record<string, unknown>,
  };
}

/** The source cluster's spec the backup recorded when it started (KubeBlocks' cluster-snapshot annotation), if readable. */
export function clusterSnapshotOf(backup: Backup): Record<string, unknown> | undefined {
  const snapshot = backup.metadata.annotations?.[CLUSTER_SNAPSHOT_ANNOTATION];
  if (snapshot === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(snapshot);
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
// KubeBlocks' own layout: `Jan 02,2006 15:04:05 UTC-0700`.
const KUBEBLOCKS_TIME = /^([A-Z][a-z]{2}) (\d{1,2}),(\d{4}) (\d{2}):(\d{2}):(\d{2}) UTC([+-]\d{2})(\d{2})$/;

/** `restorePointInTime` as an ISO time in UTC: RFC 3339 or KubeBlocks' layout; throws an Error saying how to write it. */
export function parseRestorePointInTime(value: string): string {
  const match = KUBEBLOCKS_TIME.exec(value);
  if (match === null) return parseRestoreTime(value).toISOString();
  const [, month = "", day = "", year = "", hh = "", mm = "", ss = "", zoneHours = "", zoneMinutes = ""] = match;
  const index = MONTHS.indexOf(month);
  const rfc = `${year}-${String(index + 1).padStart(2, "0")}-${day.padStart(2, "0")}T${hh}:${mm}:${ss}${zoneHours}:${zoneMinutes}`;
  if (index < 0) throw new Error(`restore time ${JSON.stringify(value.slice(0, 60))} names no month: write it like Jan 02,2025 15:04:05 UTC+0000 or 2025-01-02T15:04:05Z`);
  return parseRestoreTime(rfc).toISOString();
}

/** A restore into a new cluster, as a Restore OpsRequest or a Restore object asks for it. */
export interface RestoreRequest {
  clusterName: string;
  namespace: string;
  backupName: string;
  backupNamespace: string;
  /** As written (RFC 3339 or KubeBlocks' layout). */
  pointInTime?: string | undefined;
  /** Labels of the new cluster, naming what made it. */
  labels: Record<string, string>;
}

/** What a Restore OpsRequest asks for (undefined without spec.restore). */
export function opsRestoreRequest(ops: OpsRequest): RestoreRequest | undefined {
  const restore = ops.spec.restore;
  if (restore === undefined) return undefined;
  const namespace = ops.metadata.namespace ?? "default";
  return { clusterName: ops.spec.clusterName, namespace, backupName: restore.backupName, backupNamespace: restore.backupNamespace ?? namespace, pointInTime: restore.restorePointInTime, labels: { [OPS_NAME_LABEL]: ops.metadata.name } };
}

/** The Cluster a restore creates from the source cluster's spec, labelled with what asked for it; throws on an unreadable time. */
export function restoredClusterFor(request: RestoreRequest, sourceSpec: Record<string, unknown>): ReturnType<typeof restoredClusterManifest> {
  const point = request.pointInTime;
  const backup = { name: request.backupName, namespace: request.backupNamespace, ...(point === undefined ? {} : { restoreTime: parseRestorePointInTime(point) }) };
  const manifest = restoredClusterManifest(request.clusterName, request.namespace, sourceSpec, backup);
  return { ...manifest, metadata: { ...manifest.metadata, labels: request.labels } };
}

/** Whether `cluster` was made by the restore that labels its clusters with `labels`. */
export function restoredBy(labels: Record<string, string>, cluster: { metadata: { labels?: Record<string, string> | undefined } }): boolean {
  return Object.entries(labels).every(([key, value]) => cluster.metadata.labels?.[key] === value);
}

/** Why `backup` cannot be restored now (undefined: it can): only a Completed one, or a Running continuous one to a point in time. */
export function unrestorableReason(backup: Backup, pointInTime: boolean): string | undefined {
  const phase = backup.status?.phase ?? "New";
  if (phase === "Completed" || (pointInTime && phase === "Running")) return undefined;
  return `backup ${backup.metadata.name} is ${phase}: only a Completed backup (or a Running continuous one, with restorePointInTime) can be restored`;
}

/** The spec a cluster restored from `backup` copies: the snapshot it recorded, else the live source cluster's (undefined: neither). */
export async function restoreSourceSpec(backup: Backup, liveCluster: (name: string) => Promise<{ spec: unknown } | undefined>): Promise<Record<string, unknown> | undefined> {
  const snapshot = clusterSnapshotOf(backup);
  if (snapshot !== undefined) return snapshot;
  const source = backup.status?.source?.cluster;
  const live = source === undefined ? undefined : await liveCluster(source);
  return live === undefined ? undefined : (live.spec as Record<string, unknown>);
}
