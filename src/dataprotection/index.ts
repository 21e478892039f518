/**
 * Data protection: BackupRepos opened as repositories, the default local repository, per-component BackupPolicies,
 * the instance a backup is taken from, and reading Completed backups back (restore, verify). The backup format itself
 * is src/backup.
 */
export { backupIdOf } from "./backup-id.ts";
export { backupCredentials } from "./backup-credentials.ts";
export { desiredBackupPolicy, type PolicyComponent } from "./backup-policy-plan.ts";
export { DEFAULT_BACKUP_REPO, defaultBackupRepo, ensureDefaultBackupRepo } from "./default-repo.ts";
export { getBackup, openCompletedBackup, repositoryOf, type BackupAccess } from "./open-completed.ts";
export { findBackupRepo, MANIFESTS_PREFIX_FOR_CHECK, openRepository, repositoryAddress } from "./repositories.ts";
export { BackupDamagedError, createDataRestorer, restoreIncompatibility, RestoreCancelledError, type DataRestorer, type RestoreRequest } from "./restorer.ts";
export { RestoreMeter, type RestoreProgressReport } from "./restore-meter.ts";
export { bytesPerSecond, describeTransfer, formatByteCount, formatSeconds, percentDone, secondsLeft, type TransferFigures } from "./transfer-estimate.ts";
export { selectableLabels, selectorMatches, selectTargetInstance } from "./target.ts";
export { verifyBackupObject } from "./verify.ts";
export { basesFor, continuousMethodsOf, coveredRange, isArchiving, isContinuousBackup, planPointInTime, type ContinuousMethods, type CoveredRange, type PointInTimePlan } from "./pitr-plan.ts";
export { archiveLogFile, archivedLogFileInfo, deleteArchivedLogFile, deleteLogArchive, listArchivedLogFiles, logArchivePrefix, type LogArchive } from "./wal-archive-store.ts";
export { parentLinkOf, parentProblem, type IncrementalTarget, type ParentLink } from "./incremental-parent.ts";
