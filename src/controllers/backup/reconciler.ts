/**
 * The backup controller: a Backup is a state machine in status (New → Running → Completed or Failed) whose data
 * is written by a background job. A Backup found Running with no job in this process (the control plane was
 * killed mid-backup) is settled from the repository: complete only if its manifest was committed, otherwise
 * failed with its partial data deleted. Never is a backup Completed without a whole, committed manifest.
 */
import { chmod, mkdir, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { BACKUP_FINALIZER, now, type Backup, type BackupStatus } from "../../api/index.ts";
import { deleteBackup, openBackup, BackupIntegrityError } from "../../backup/index.ts";
import { backupIdOf, findBackupRepo, openRepository, repositoryOf } from "../../dataprotection/index.ts";
import { NotFoundError, errorMessage } from "../../errors/index.ts";
import { splitKey, withFinalizer, withoutFinalizer, type EventRecorder, type ReconcileResult, type Reconciler } from "../runtime/index.ts";
import { BackupJob } from "./job.ts";
import { completedStatus, failedStatus, progressOf } from "./plan.ts";
import { expirationFor, retentionAction } from "./retention.ts";
import { BackupRefused, resolveBackup, startedMetadata, type ResolveDeps } from "./resolve.ts";
import { WalArchiver } from "./wal-archiver.ts";

/** How often a running backup's progress is written to its status. */
const PROGRESS_MS = 1000;
/** Look at finished backups at least this often, for their expiration. */
const RETENTION_CHECK_MS = 3_600_000;

export interface BackupReconcilerOptions extends ResolveDeps {
  events: EventRecorder;
}

export class BackupReconciler implements Reconciler {
  readonly #o: BackupReconcilerOptions;
  /** Jobs of this process, by Backup uid. */
  readonly #jobs = new Map<string, BackupJob>();
  readonly #finished: ((key: string) => void)[] = [];
  /** Continuous backups (archive-wal) are the WAL archiver's: they stay Running while the log is archived. */
  readonly #archiver: WalArchiver;
  /** Staging files older than this were left by writers of an earlier control plane. */
  readonly #startedAt = new Date();
  /** The scratch directory, emptied once per control-plane start before the first job uses it. */
  #scratch: Promise<void> | undefined;

  constructor(options: BackupReconcilerOptions) {
    this.#o = options;
    this.#archiver = new WalArchiver(options);
  }

  /** Be told when a job ends, to reconcile its Backup at once. */
  onJobFinished(listener: (key: string) => void): void {
    this.#finished.push(listener);
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const { namespace = "default", name } = splitKey(key);
    const found = await this.#o.store.get<Backup>({ kind: "Backup", namespace, name });
    if (found === undefined) return undefined;
    if (this.#archiver.handles(found)) return this.#archiver.reconcile(found);
    if (found.metadata.deletionTimestamp !== undefined) return this.#finalize(found);
    const backup = await withFinalizer(this.#o.store, found, BACKUP_FINALIZER);
    switch (backup.status?.phase ?? "New") {
      case "New":
        return this.#begin(key, backup);
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

  async #begin(key: string, backup: Backup): Promise<ReconcileResult | undefined> {
    let resolved;
    try {
      resolved = await resolveBackup(this.#o, backup);
    } catch (error) {
      if (error instanceof BackupRefused) return this.#fail(backup, error.message);
      throw error;
    }
    await this.#scratchReady();
    await resolved.job.host.mkdir(resolved.job.scratchDirectory);
    let live = await this.#o.store.update<Backup>({ ...backup, metadata: startedMetadata(backup, resolved) });
    // Running is recorded before a byte is written: a crash from here on is found and settled at the next start.
    // The expiration is known from the start (start + retentionPeriod), as in KubeBlocks; it is acted on once finished.
    const startTimestamp = now();
    live = await this.#setStatus(live, {
      phase: "Running",
      startTimestamp,
      ...expirationFor(backup, startTimestamp),
      backupRepoName: resolved.repoName,
      path: resolved.job.backupId,
      formatVersion: "holdfast-backup/v1",
      backupMethod: { name: backup.spec.backupMethod, snapshotVolumes: false },
      target: { ...resolved.policy.spec.target, selectedTargetPods: [resolved.target.instance.metadata.name] },
      source: { cluster: resolved.target.cluster, component: resolved.target.component, instance: resolved.target.instance.metadata.name, engine: resolved.engine, version: resolved.version },
    });
    const spec = { ...resolved.job, backoffLimit: resolved.policy.spec.backoffLimit };
    this.#jobs.set(live.metadata.uid ?? "", new BackupJob(spec, () => this.#finished.forEach((listener) => listener(key))));
    await this.#o.events.record(live, "Normal", "BackupStarted", `backing up ${resolved.target.instance.metadata.name} with ${backup.spec.backupMethod} into BackupRepo ${resolved.repoName}`);
    return { requeueAfterMs: PROGRESS_MS };
  }

  async #follow(backup: Backup): Promise<ReconcileResult | undefined> {
    const uid = backup.metadata.uid ?? "";
    const job = this.#jobs.get(uid);
    if (job === undefined) return this.#recover(backup);
    const outcome = job.outcome;
    if (outcome === undefined) {
      await this.#report(backup, job);
      return { requeueAfterMs: PROGRESS_MS };
    }
    const result = outcome.ok ? await this.#complete(backup, outcome.summary, "") : await this.#fail(backup, outcome.reason);
    this.#jobs.delete(uid);
    return result;
  }

  /** A running job's progress, and each retry (as an event too: the policy's backoffLimit allows it). */
  async #report(backup: Backup, job: BackupJob): Promise<void> {
    if (job.retries.count > (backup.status?.retries ?? 0)) return this.#reportRetry(backup, job.retries);
    const progress = job.progress;
    if (progress === undefined || progress.plaintextBytes === backup.status?.progress?.bytesDone) return;
    // Each status write wakes this reconcile again through the watch: write at most every PROGRESS_MS.
    const written = Date.parse(backup.status?.progress?.updatedAt ?? "");
    if (Date.now() - written < PROGRESS_MS) return;
    await this.#setStatus(backup, { progress: progressOf(progress, now(), job.estimatedTotalBytes) });
  }

  async #reportRetry(backup: Backup, { count, limit, lastReason }: BackupJob["retries"]): Promise<void> {
    const live = await this.#setStatus(backup, { retries: count, lastRetryReason: lastReason, progress: undefined });
    await this.#o.events.record(live, "Warning", "BackupRetrying", `attempt ${count} failed (${lastReason ?? "?"}); retry ${count} of ${limit} (BackupPolicy backoffLimit) follows shortly`);
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

  /**
   * A Running backup without a job here: the control plane stopped during it. Its manifest decides: committed means
   * the data is whole (the writer stores the manifest last); absent means it was cut short, and what it stored goes.
   */
  async #recover(backup: Backup): Promise<ReconcileResult | undefined> {
    const repository = await repositoryOf(this.#o.store, backup);
    const backupId = backupIdOf(backup);
    try {
      const reader = await openBackup({ repository, keyring: this.#o.keyring, backupId });
      if (reader.metadata["backupUid"] !== backup.metadata.uid) throw new BackupIntegrityError("manifest", { backupId, objectKey: backupId }, "the manifest belongs to another Backup");
      const sum = (pick: (s: (typeof reader.streams)[number]) => number): number => reader.streams.reduce((total, s) => total + pick(s), 0);
      const summary = { manifestSha256: reader.manifestSha256, plaintextBytes: sum((s) => s.plaintextBytes), storedBytes: sum((s) => s.storedBytes), completedAt: reader.completedAt };
      return await this.#complete(backup, summary, " (committed just before the control plane restarted)");
    } catch (error) {
      if (!(error instanceof NotFoundError || error instanceof BackupIntegrityError)) throw error;
      const removed = await deleteBackup(repository, backupId);
      await repository.sweepIncompleteUploads(this.#startedAt);
      const detail = error instanceof NotFoundError ? "it never completed" : `its data is damaged (${error.message})`;
      return this.#fail(backup, `the control plane stopped while this backup was running and ${detail}; its partial data (${removed} objects) was deleted; take a new backup`);
    }
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

  /** Deleting a Backup: stop its job, delete its data unless deletionPolicy is Retain, then let it go. */
  async #finalize(backup: Backup): Promise<ReconcileResult | undefined> {
    if (!(backup.metadata.finalizers ?? []).includes(BACKUP_FINALIZER)) return undefined;
    const uid = backup.metadata.uid ?? "";
    await this.#jobs.get(uid)?.cancel();
    this.#jobs.delete(uid);
    let live = backup;
    if (live.status?.phase !== "Deleting") live = await this.#setStatus(live, { phase: "Deleting" });
    if (live.spec.deletionPolicy === "Delete" && live.status?.path !== undefined) await this.#deleteData(live);
    await withoutFinalizer(this.#o.store, live, BACKUP_FINALIZER);
    return undefined;
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

  #scratchReady(): Promise<void> {
    this.#scratch ??= this.#emptyScratch().catch((error: unknown) => {
      this.#scratch = undefined;
      throw error;
    });
    return this.#scratch;
  }

  /** Credentials a job killed with the control plane left behind go before any new job starts. */
  async #emptyScratch(): Promise<void> {
    const directory = this.#o.paths.backupScratchDir;
    await rm(directory, { recursive: true, force: true });
    // Only searchable by others: each cluster's user reaches its own directory inside (made per job), nothing else.
    await mkdir(dirname(directory), { recursive: true, mode: 0o711 });
    await mkdir(directory, { mode: 0o711 });
    await chmod(directory, 0o711);
  }

  async #setStatus(backup: Backup, changes: Partial<BackupStatus>): Promise<Backup> {
    return this.#o.store.updateStatus<Backup>({ ...backup, status: { ...backup.status, ...changes } });
  }
}
