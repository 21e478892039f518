/** Wires the node agent's side of data protection: the backup runner and the WAL archiver of the instances bound to this node. */
import { hostname } from "node:os";
import { BackupRunner, WAL_ARCHIVER_KEY, WalArchiver } from "../agent/index.ts";
import { Controller, createEventRecorder } from "../controllers/runtime/index.ts";
import type { DataProtectionDeps } from "./data-protection-controllers.ts";

/** What the node agent's backup controllers are built from. */
export interface BackupAgentDeps extends DataProtectionDeps {
  /** This node's name (instances with this spec.nodeName, or none, are this agent's); the host name by default. */
  nodeName?: string | undefined;
}

/** The backup runner (full backups) and the WAL archiver (continuous backups) of this node's agent. */
export function createBackupAgentControllers(deps: BackupAgentDeps): Controller[] {
  const { store, logger } = deps;
  const nodeName = deps.nodeName ?? hostname();
  const local = { engines: deps.engines, users: deps.users, paths: deps.paths, nodeName };
  const runner = new BackupRunner({ ...local, store, keyring: deps.keyring, events: createEventRecorder(store, "node-agent", logger), logger });
  const runs = new Controller({ name: "backup-runner", store, logger, workers: 2, watches: [{ kind: "Backup" }], reconciler: runner, resyncMs: 60_000 });
  runner.onJobFinished((key) => runs.enqueue(key));
  const toArchiver = (): string[] => [WAL_ARCHIVER_KEY];
  const archiver = new Controller({
    name: "wal-archiver",
    store,
    logger,
    workers: 1,
    watches: [
      { kind: "Backup", keysFor: toArchiver },
      { kind: "Instance", keysFor: toArchiver },
    ],
    reconciler: new WalArchiver({ ...local, store, keyring: deps.keyring }),
    resyncMs: 60_000,
  });
  return [runs, archiver];
}
