/**
 * The backup controller: a Backup is a state machine in status (New → Running → Completed or Failed). The controller
 * validates it, picks the target instance and records that decision (status.source, phase Running); the node agent of
 * the node that instance is bound to takes the backup and reports in status.run (src/agent/backup-runner.ts). The
 * controller turns that report into the phase, and keeps retention and deletion of the repository data. It never runs
 * an engine command or touches an instance's files. Never is a backup Completed without a whole, committed manifest:
 * the agent reports Succeeded only with one (see docs/adr/0022-backups-through-the-node-agent.md).
 */
import { BACKUP_FINALIZER, now, type Backup, type BackupRun, type BackupStatus, type Instance } from "../../api/index.ts";
import { deleteBackup } from "../../backup/index.ts";
import { backupIdOf, findBackupRepo, openRepository } from "../../dataprotection/index.ts";
import { NotFoundError, errorMessage } from "../../errors/index.ts";
import { splitKey, withFinalizer, withoutFinalizer, type EventRecorder, type ReconcileResult, type Reconciler } from "../runtime/index.ts";
import { completedStatus, failedStatus } from "./plan.ts";
import { expirationFor, retentionAction } from "./retention.ts";
import { resolveBackup, startedMetadata, type ResolveDeps } from "./resolve.ts";
import { ContinuousBackups } from "./continuous-backups.ts";

/** Look at finished backups at least this often, for their expiration. */
const RETENTION_CHECK_MS = 3_600_000;
/** How often a deleted backup that incremental backups build on checks whether they are gone. */
const DEPENDENT_RECHECK_MS = 5000;

export interface BackupReconcilerOptions extends ResolveDeps {
  events: EventRecorder;
}

export class BackupReconciler implements Reconciler {
  readonly #o: BackupReconcilerOptions;
  /** Continuous backups (archive-wal): they stay Running while the log is archived. */
  readonly #continuous: ContinuousBackups;

  constructor(options: BackupReconcilerOptions) {
    this.#o = options;
    this.#continuous = new ContinuousBackups(options);
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const { namespace = "default", name } = splitKey(key);
    const found = await this.#o.store.get<Backup>({ kind: "Backup", namespace, name });
    if (found === undefined) return undefined;
    if (this.#continuous.handles(found)) return this.#continuous.reconcile(found);
    if (found.metadata.deletionTimestamp !== undefined) return this.#finalize(found);
    const backup = await withFinalizer(this.#o.store, found, BACKUP_FINALIZER);
    switch (backup.status?.phase ?? "New") {
      case "New":
        return this.#begin(backup);
      case "Running":
      case "InProgress":
        return this.#follow(backup);
      case "Completed":
      case "Failed":
        return this.#retain(backup);
      default:
        return undefined;
    }
  }

  /** Check the backup can be taken and record the decision: from here on the target's node agent takes it. */
  async #begin(backup: Backup): Promise<ReconcileResult | undefined> {
    const resolved = await resolveBackup(this.#o, backup);
    if ("refused" in resolved) return this.#fail(backup, resolved.refused);
    let live = await this.#o.store.update<Backup>({ ...backup, metadata: startedMetadata(backup, resolved) });
    // The expiration is known from the start (start + retentionPeriod), as in KubeBlocks; it is acted on once finished.
    const startTimestamp = now();
    const instance = resolved.target.instance;
    live = await this.#setStatus(live, {
      phase: "Running",
      startTimestamp,
      ...expirationFor(backup, startTimestamp),
      backupRepoName: resolved.repoName,
      path: backupIdOf(backup),
      formatVersion: "holdfast-backup/v1",
      backupMethod: { name: backup.spec.backupMethod, snapshotVolumes: false },
      target: { ...resolved.policy.spec.target, selectedTargetPods: [instance.metadata.name] },
      source: { cluster: resolved.target.cluster, component: resolved.target.component, instance: instance.metadata.name, engine: resolved.engine, version: resolved.version },
    });
    const where = instance.spec.nodeName === undefined ? "" : ` on node ${instance.spec.nodeName}`;
    await this.#o.events.record(live, "Normal", "BackupStarted", `backing up ${instance.metadata.name}${where} with ${backup.spec.backupMethod} into BackupRepo ${resolved.repoName}`);
    return undefined;
  }

  /** A Running backup: what its node agent reports (status.run) decides; each report wakes this through the watch. */
  async #follow(backup: Backup): Promise<ReconcileResult | undefined> {
    const run = backup.status?.run;
    if (run?.state === "Succeeded") return this.#succeeded(backup, run);
    if (run?.state === "Failed") return this.#fail(backup, run.reason ?? "the node agent reported a failure without a reason");
    if (run === undefined && !(await this.#sourceExists(backup))) {
      return this.#fail(backup, `instance ${backup.status?.source?.instance ?? "?"} was deleted before its node agent started the backup; back up again`);
    }
    return undefined;
  }

  async #succeeded(backup: Backup, run: BackupRun): Promise<ReconcileResult | undefined> {
    const summary = committedSummary(run);
    if (summary === undefined) return this.#fail(backup, `the node agent on node ${run.node} reported success without the committed manifest; take a new backup`);
    return this.#complete(backup, summary, run.note ?? "");
  }

  async #sourceExists(backup: Backup): Promise<boolean> {
    const name = backup.status?.source?.instance ?? "";
    return (await this.#o.store.get<Instance>({ kind: "Instance", namespace: backup.metadata.namespace ?? "default", name })) !== undefined;
  }

  async #complete(backup: Backup, summary: Parameters<typeof completedStatus>[1], note: string): Promise<ReconcileResult | undefined> {
    const updated = await this.#o.store.updateStatus<Backup>({ ...backup, status: completedStatus(backup, summary, now()) });
    const status = updated.status ?? {};
    await this.#o.events.record(updated, "Normal", "BackupCompleted", `backup completed${note}: ${status.totalSize ?? "?"} bytes of data stored as ${status.storedSize ?? "?"} bytes in ${status.duration ?? "?"}`);
    return this.#retain(updated);
  }

  async #fail(backup: Backup, reason: string): Promise<ReconcileResult | undefined> {
    const updated = await this.#o.store.updateStatus<Backup>({ ...backup, status: failedStatus(backup, reason, now()) });
    await this.#o.events.record(updated, "Warning", "BackupFailed", reason);
    return this.#retain(updated);
  }

  /** A finished backup is deleted when its retention period has run out (retention.ts). */
  async #retain(backup: Backup): Promise<ReconcileResult | undefined> {
    const retention = retentionAction(backup, Date.now(), RETENTION_CHECK_MS);
    if (retention.action === "recheck") return { requeueAfterMs: retention.afterMs };
    if (retention.action === "delete") {
      await this.#o.events.record(backup, "Normal", "BackupExpired", `retentionPeriod ${backup.spec.retentionPeriod ?? "?"} ran out at ${backup.status?.expiration ?? "?"}; deleting the backup${backup.spec.deletionPolicy === "Retain" ? " (its data is kept: deletionPolicy Retain)" : " and its data"}`);
      await this.#o.store.delete({ kind: "Backup", namespace: backup.metadata.namespace ?? "default", name: backup.metadata.name });
    }
    return undefined;
  }

  /**
   * Deleting a Backup: its node agent cancels a running job (deleting what it stored) and reports; then the data goes
   * unless deletionPolicy is Retain, and the Backup is let go.
   */
  async #finalize(backup: Backup): Promise<ReconcileResult | undefined> {
    if (!(backup.metadata.finalizers ?? []).includes(BACKUP_FINALIZER)) return undefined;
    let live = backup;
    if (live.status?.phase !== "Deleting") live = await this.#setStatus(live, { phase: "Deleting" });
    // The agent's report of the cancelled job wakes this again through the watch.
    if (live.status?.run?.state === "Running") return undefined;
    if (live.spec.deletionPolicy === "Delete" && live.status?.path !== undefined) {
      const kept = await this.#keptForDependents(live, live !== backup);
      if (kept !== undefined) return kept;
      await this.#deleteData(live);
    }
    await withoutFinalizer(this.#o.store, live, BACKUP_FINALIZER);
    return undefined;
  }

  /** Incremental backups read chunks this one stored: its data stays (rechecked later) while one builds on it. */
  async #keptForDependents(backup: Backup, justDeleted: boolean): Promise<ReconcileResult | undefined> {
    const dependent = await this.#dependentOf(backup);
    if (dependent === undefined) return undefined;
    if (justDeleted) await this.#o.events.record(backup, "Normal", "BackupDataKept", `incremental backup ${dependent} builds on this backup; its data is deleted once no backup builds on it`);
    return { requeueAfterMs: DEPENDENT_RECHECK_MS };
  }

  /** A Backup whose spec.parentBackupName names this one, if any (a Failed one holds no data to read). */
  async #dependentOf(backup: Backup): Promise<string | undefined> {
    const namespace = backup.metadata.namespace ?? "default";
    const backups = (await this.#o.store.list<Backup>("Backup", { namespace })).items;
    return backups.find((other) => other.spec.parentBackupName === backup.metadata.name && other.metadata.uid !== backup.metadata.uid && other.status?.phase !== "Failed")?.metadata.name;
  }

  async #deleteData(backup: Backup): Promise<void> {
    let repo;
    try {
      repo = await findBackupRepo(this.#o.store, backup.status?.backupRepoName);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      await this.#o.events.record(backup, "Warning", "BackupDataKept", `BackupRepo ${backup.status?.backupRepoName ?? "?"} no longer exists, so the data of this backup could not be deleted: ${errorMessage(error)}`);
      return;
    }
    await deleteBackup(await openRepository(repo, this.#o.store), backupIdOf(backup));
  }

  async #setStatus(backup: Backup, changes: Partial<BackupStatus>): Promise<Backup> {
    return this.#o.store.updateStatus<Backup>({ ...backup, status: { ...backup.status, ...changes } });
  }
}

/** The committed manifest's digest and sizes a Succeeded run carries. */
function committedSummary(run: BackupRun): Parameters<typeof completedStatus>[1] | undefined {
  const { manifestSha256, plaintextBytes, storedBytes, completedAt } = run;
  if (manifestSha256 === undefined || plaintextBytes === undefined || storedBytes === undefined || completedAt === undefined) return undefined;
  return { manifestSha256, plaintextBytes, storedBytes, completedAt };
}
