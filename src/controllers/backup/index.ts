/**
 * The backup controller: Backup objects checked, handed to the node agent of the target instance's node, and
 * followed to Completed or Failed; retention and deletion of their repository data.
 */
export { BackupReconciler, type BackupReconcilerOptions } from "./reconciler.ts";
export { chooseTarget, completedStatus, failedStatus, isExpired, type BackupTargetChoice } from "./plan.ts";
export { ARCHIVE_PASS_MS, BACKUP_TYPE_LABEL } from "./continuous-backups.ts";
