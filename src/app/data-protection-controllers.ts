/** Wires the data-protection controllers: one BackupPolicy per cluster component, and Backups taken into repositories. */
import type { BackupKeyring } from "../backup/index.ts";
import type { HomePaths } from "../config/index.ts";
import { BackupReconciler } from "../controllers/backup/index.ts";
import { BackupPolicyReconciler } from "../controllers/backup-policy/index.ts";
import { BackupRepoReconciler } from "../controllers/backup-repo/index.ts";
import type { EngineLookup } from "../controllers/cluster/index.ts";
import { Controller, createEventRecorder } from "../controllers/runtime/index.ts";
import type { HostAccess } from "../engines/index.ts";
import type { Store } from "../store/index.ts";
import type { Logger } from "../util/index.ts";

/** What the data-protection controllers are built from. */
export interface DataProtectionDeps {
  store: Store;
  engines: EngineLookup;
  keyring: BackupKeyring;
  host: HostAccess;
  paths: HomePaths;
  logger: Logger;
}

/** The backuprepo, backuppolicy and backup controllers. */
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
  const reconciler = new BackupReconciler({ ...deps, events: createEventRecorder(store, "backup-controller", logger) });
  const backups = new Controller({ name: "backup", store, logger, workers: 2, watches: [{ kind: "Backup" }], reconciler, resyncMs: 60_000 });
  reconciler.onJobFinished((key) => backups.enqueue(key));
  return [repos, policies, backups];
}
