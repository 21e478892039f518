/** The backup controller: Backup objects taken by engine backup methods into encrypted, verifiable repositories. */
export { BackupReconciler, type BackupReconcilerOptions } from "./reconciler.ts";
export { BackupJob, type BackupJobOutcome, type BackupJobSpec } from "./job.ts";
export { chooseTarget, completedStatus, failedStatus, isExpired, progressOf, type BackupTargetChoice } from "./plan.ts";
export { ARCHIVE_PASS_MS, BACKUP_TYPE_LABEL, WalArchiver, type WalArchiverOptions } from "./wal-archiver.ts";
