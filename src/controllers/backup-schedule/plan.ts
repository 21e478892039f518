/**
 * The schedule controller's decisions, without I/O: when a schedule entry is due, whether its backup starts or the
 * slot is skipped, and the Backup a slot creates (named and labelled as KubeBlocks does).
 */
import type { Backup, BackupPolicy, BackupSchedule, CronSchedule, SchedulePolicy } from "../../api/index.ts";

/** Labels KubeBlocks puts on backups a schedule creates. */
export const AUTO_BACKUP_LABEL = "dataprotection.kubeblocks.io/autobackup";
export const BACKUP_SCHEDULE_LABEL = "dataprotection.kubeblocks.io/backup-schedule";
export const BACKUP_POLICY_LABEL = "dataprotection.kubeblocks.io/backup-policy";
export const BACKUP_METHOD_LABEL = "dataprotection.kubeblocks.io/backup-method";
const CLUSTER_LABEL = "app.kubernetes.io/instance";
const COMPONENT_LABEL = "apps.kubeblocks.io/component-name";

/** Windows searched for the latest missed slot, shortest first, so a frequent schedule costs a few steps. */
const LOOKBACK_MS = [3_600_000, 86_400_000, 32 * 86_400_000, 366 * 86_400_000];

/** What to do about one schedule entry now. */
export type EntryDecision =
  /** Nothing is due; look again at `nextAt` (undefined: the expression never fires again). */
  | { action: "wait"; nextAt: number | undefined }
  /** Create the backup of slot `slot`. */
  | { action: "create"; slot: number; nextAt: number | undefined }
  /** Slot `slot` is not run, for `reason`; it counts as scheduled, so it is not tried again. */
  | { action: "skip"; slot: number; reason: string; nextAt: number | undefined };

/** What one entry's decision depends on. */
export interface EntryInput {
  cron: CronSchedule;
  /** When the entry last fired (status.schedules[name].lastScheduleTime), else when the schedule was created. */
  anchor: number;
  now: number;
  startingDeadlineMinutes?: number | undefined;
  /** The name of a backup of the same policy and method that has not finished, if any. */
  running?: string | undefined;
}

/** The latest slot in (after, now], or undefined. A control plane that was down for many slots runs only the last. */
export function latestSlot(cron: CronSchedule, after: number, now: number): number | undefined {
  for (const window of [...LOOKBACK_MS, Number.POSITIVE_INFINITY]) {
    let latest: number | undefined;
    for (let slot = cron.next(new Date(Math.max(after, now - window)))?.getTime(); slot !== undefined && slot <= now; slot = cron.next(new Date(slot))?.getTime()) latest = slot;
    if (latest !== undefined || now - window <= after) return latest;
  }
  return undefined;
}

/** Decide about one entry: wait for its next slot, create the due slot's backup, or skip it. */
export function decideEntry(input: EntryInput): EntryDecision {
  const nextAt = input.cron.next(new Date(input.now))?.getTime();
  const slot = latestSlot(input.cron, input.anchor, input.now);
  if (slot === undefined) return { action: "wait", nextAt };
  const deadline = input.startingDeadlineMinutes;
  if (deadline !== undefined && input.now - slot > deadline * 60_000) {
    return { action: "skip", slot, reason: `it is ${Math.round((input.now - slot) / 60_000)} minutes late, past startingDeadlineMinutes ${deadline}`, nextAt };
  }
  // As KubeBlocks' CronJobs (concurrencyPolicy Forbid): a slot that comes while the last backup still runs is skipped.
  if (input.running !== undefined) return { action: "skip", slot, reason: `backup ${input.running} of the same policy and method is still running`, nextAt };
  return { action: "create", slot, nextAt };
}

/** The key of an entry in status.schedules: its name, else its method (KubeBlocks' rule). */
export function entryName(entry: Pick<SchedulePolicy, "name" | "backupMethod">): string {
  return entry.name ?? entry.backupMethod;
}

/** Phases of a backup that has not finished. */
export function isUnfinished(backup: Backup): boolean {
  const phase = backup.status?.phase ?? "New";
  return backup.metadata.deletionTimestamp === undefined && (phase === "New" || phase === "Running" || phase === "InProgress");
}

/** `20250102030400`: a slot as KubeBlocks stamps scheduled backup names (UTC). */
export function slotStamp(slot: number): string {
  return new Date(slot).toISOString().replace(/[-:T]/g, "").slice(0, 14);
}

/** The Backup a slot creates: `<cluster>-<stamp>` (with the entry's name when the schedule has several entries). */
export function scheduledBackup(schedule: BackupSchedule, policy: BackupPolicy, entry: SchedulePolicy, slot: number): Backup {
  const labels = scheduledBackupLabels(schedule, policy, entry.backupMethod);
  const prefix = labels[CLUSTER_LABEL] ?? schedule.metadata.name;
  const name = schedule.spec.schedules.length > 1 ? `${prefix}-${entryName(entry)}-${slotStamp(slot)}` : `${prefix}-${slotStamp(slot)}`;
  return {
    apiVersion: "dataprotection.kubeblocks.io/v1alpha1",
    kind: "Backup",
    metadata: { name: name.toLowerCase(), namespace: schedule.metadata.namespace ?? "default", labels },
    spec: { backupPolicyName: policy.metadata.name, backupMethod: entry.backupMethod, deletionPolicy: "Delete", retentionPeriod: entry.retentionPeriod },
  };
}

/** KubeBlocks' labels of a scheduled backup, and the cluster and component its policy selects (WipeOut finds them by it). */
function scheduledBackupLabels(schedule: BackupSchedule, policy: BackupPolicy, method: string): Record<string, string> {
  const selector = policy.spec.backupMethods.find((m) => m.name === method)?.target?.podSelector ?? policy.spec.target?.podSelector;
  const selected = Object.entries(selector?.matchLabels ?? {}).filter(([key]) => key === CLUSTER_LABEL || key === COMPONENT_LABEL);
  return {
    [AUTO_BACKUP_LABEL]: "true",
    [BACKUP_SCHEDULE_LABEL]: schedule.metadata.name,
    [BACKUP_POLICY_LABEL]: policy.metadata.name,
    [BACKUP_METHOD_LABEL]: method,
    ...Object.fromEntries(selected),
  };
}

/** Why a schedule cannot run against its policy (a method it lacks), or undefined. */
export function scheduleProblem(schedule: BackupSchedule, policy: BackupPolicy | undefined): string | undefined {
  const namespace = schedule.metadata.namespace ?? "default";
  if (policy === undefined) return `BackupPolicy ${schedule.spec.backupPolicyName} not found in namespace ${namespace}; list them with holdfast get backuppolicies -n ${namespace}`;
  const methods = policy.spec.backupMethods.map((m) => m.name);
  const missing = schedule.spec.schedules.find((entry) => !methods.includes(entry.backupMethod));
  if (missing !== undefined) return `backup method ${missing.backupMethod} is not in BackupPolicy ${policy.metadata.name} (it has: ${methods.join(", ")})`;
  return undefined;
}
