/** The schedule controller: BackupSchedules create Backups at their cron slots, labelled and retained as KubeBlocks does. */
export { BackupScheduleReconciler, type BackupScheduleReconcilerOptions } from "./reconciler.ts";
export { AUTO_BACKUP_LABEL, BACKUP_SCHEDULE_LABEL, decideEntry, entryName, latestSlot, scheduledBackup, slotStamp, type EntryDecision, type EntryInput } from "./plan.ts";
export { ClusterBackupReconciler, desiredClusterSchedule, type ClusterBackupReconcilerOptions } from "./cluster-backup.ts";
