/** Wires the data-protection controllers: one BackupPolicy per cluster component, and Backups taken into repositories. */
import type { Resource } from "../api/index.ts";
import type { BackupKeyring } from "../backup/index.ts";
import type { HomePaths } from "../config/index.ts";
import { BackupReconciler } from "../controllers/backup/index.ts";
import { BackupPolicyReconciler } from "../controllers/backup-policy/index.ts";
import { BACKUP_SCHEDULE_LABEL, BackupScheduleReconciler, ClusterBackupReconciler } from "../controllers/backup-schedule/index.ts";
import { BackupRepoReconciler } from "../controllers/backup-repo/index.ts";
import { RestoreReconciler } from "../controllers/restore/index.ts";
import type { EngineLookup } from "../controllers/cluster/index.ts";
import { Controller, createEventRecorder, ownerKeys } from "../controllers/runtime/index.ts";
import type { InstanceUsers } from "../runtime/index.ts";
import type { Store } from "../store/index.ts";
import type { Logger } from "../util/index.ts";

/** What the data-protection controllers are built from. */
export interface DataProtectionDeps {
  store: Store;
  engines: EngineLookup;
  keyring: BackupKeyring;
  users: InstanceUsers;
  paths: HomePaths;
  logger: Logger;
}

/** The backuprepo, backuppolicy, backup, restore and backupschedule controllers (the node agent takes the backups: backup-agent-controllers.ts). */
export function createDataProtectionControllers(deps: DataProtectionDeps): Controller[] {
  const { store, logger } = deps;
  const policies = new Controller({
    name: "backuppolicy",
    store,
    logger,
    watches: [{ kind: "Cluster" }],
    reconciler: new BackupPolicyReconciler({ store, engines: deps.engines, events: createEventRecorder(store, "backuppolicy-controller", logger) }),
  });
  const repos = new Controller({ name: "backuprepo", store, logger, watches: [{ kind: "BackupRepo" }], reconciler: new BackupRepoReconciler({ store, events: createEventRecorder(store, "backuprepo-controller", logger) }) });
  const reconciler = new BackupReconciler({ store, engines: deps.engines, keyring: deps.keyring, events: createEventRecorder(store, "backup-controller", logger) });
  const backups = new Controller({ name: "backup", store, logger, workers: 2, watches: [{ kind: "Backup" }], reconciler, resyncMs: 60_000 });
  const restores = new Controller({ name: "restore", store, logger, watches: [{ kind: "Restore" }], reconciler: new RestoreReconciler({ store, events: createEventRecorder(store, "restore-controller", logger) }) });
  return [repos, policies, backups, restores, ...createScheduleControllers(deps)];
}

/** BackupSchedules (a change to a Backup one created wakes it: lastSuccessfulTime, the running-backup check), and Cluster.spec.backup. */
function createScheduleControllers({ store, logger }: DataProtectionDeps): Controller[] {
  const scheduleOf = (backup: Resource): string[] => {
    const schedule = backup.metadata.labels?.[BACKUP_SCHEDULE_LABEL];
    return schedule === undefined ? [] : [`${backup.metadata.namespace ?? "default"}/${schedule}`];
  };
  const schedules = new Controller({
    name: "backupschedule",
    store,
    logger,
    watches: [{ kind: "BackupSchedule" }, { kind: "Backup", keysFor: scheduleOf }],
    reconciler: new BackupScheduleReconciler({ store, events: createEventRecorder(store, "backupschedule-controller", logger) }),
    resyncMs: 60_000,
  });
  // Cluster.spec.backup: kept as the cluster's BackupSchedules once its BackupPolicies exist.
  const clusterBackups = new Controller({
    name: "clusterbackup",
    store,
    logger,
    watches: [{ kind: "Cluster" }, { kind: "BackupPolicy", keysFor: ownerKeys("Cluster") }, { kind: "BackupSchedule", keysFor: ownerKeys("Cluster") }],
    reconciler: new ClusterBackupReconciler({ store, events: createEventRecorder(store, "backupschedule-controller", logger) }),
  });
  return [schedules, clusterBackups];
}
