/**
 * The data of a new instance restored from the backup its spec names (spec.restore), in the background: the reconcile
 * starts a job and returns, and each later pass writes the job's progress to the status until it ends. Deleting the
 * instance cancels the job (the finalizer waits for it to stop and for its partial data to go). The data is checked as
 * it is read: a damaged backup fails the restore, is recorded in the Restored condition, and is not read again.
 */
import { now, type Instance, type InstanceStatus, type RestoreProgress } from "../api/index.ts";
import { BackupDamagedError, describeTransfer, formatSeconds, type DataRestorer, type RestoreProgressReport, type RestoreRequest } from "../dataprotection/index.ts";
import { errorMessage } from "../errors/index.ts";
import { findCondition, setCondition } from "../controllers/runtime/index.ts";
import { clearDirectory } from "./clear-directory.ts";
import { restoreProgressOf, restoringMessage } from "./restore-progress.ts";

/** Condition on an instance restored from a backup; False with BACKUP_DAMAGED stops further attempts. */
const RESTORED = "Restored";
const BACKUP_DAMAGED = "BackupDamaged";
/**
 * How often a running restore's progress is written to the status. The job's end does not wait for it: it wakes the
 * instance at once (`wake`). Looking more often near the end (every 50 ms once all data was read, before the wake)
 * ran the whole start pass 20 times a second beside the restore's last fsyncs and recovery, on the same cores and disk.
 */
const PROGRESS_MS = 1000;
const MIB = 1024 * 1024;

/** What a restore step may change on the instance being reconciled. */
export interface RestoreStatusWriter {
  /** The instance as last written. */
  instance(): Instance;
  /** Write status changes (undefined removes a field). */
  setStatus(changes: Partial<Record<keyof InstanceStatus, unknown>>): Promise<void>;
  /** An event on the instance and its cluster. */
  record(type: "Normal" | "Warning", reason: string, message: string): Promise<void>;
}

/**
 * What the reconcile does next: nothing to restore (or restored: start it), wait for the job (`started` by this step),
 * or fail the start.
 */
export type RestoreStep = { kind: "none" } | { kind: "running"; requeueAfterMs: number; started?: boolean } | { kind: "failed"; message: string };

type RestoreOutcome = { ok: true } | { ok: false; error: unknown };

/** One restore in the background. */
class RestoreJob {
  readonly backup: string;
  readonly startedAt = now();
  readonly done: Promise<void>;
  progress: RestoreProgressReport | undefined;
  outcome: RestoreOutcome | undefined;
  readonly #abort = new AbortController();

  /** `firstBytes`: told once, when the first bytes have been read (their progress is then shown at once). */
  constructor(backup: string, request: Omit<RestoreRequest, "signal" | "onProgress">, restorer: DataRestorer, firstBytes: () => void) {
    this.backup = backup;
    const onProgress = (progress: RestoreProgressReport): void => {
      const first = (this.progress?.bytesDone ?? 0) === 0 && progress.bytesDone > 0;
      this.progress = progress;
      if (first) firstBytes();
    };
    const running = restorer.restore({ ...request, signal: this.#abort.signal, onProgress });
    this.done = running.then(
      () => void (this.outcome = { ok: true }),
      (error: unknown) => void (this.outcome = { ok: false, error }),
    );
  }

  /** Abort, and resolve once the restore has stopped and removed what it wrote. */
  async cancel(): Promise<void> {
    this.#abort.abort();
    await this.done;
  }
}

/** ` (825 MiB read in 4.1s; restore process peak memory 97 MiB)`: what the Restored condition and event say of the work. */
export function restoredFigures(progress: RestoreProgressReport | undefined, took: string): string {
  if (progress === undefined) return "";
  const peak = progress.processPeakBytes === undefined ? "" : `; restore process peak memory ${Math.round(progress.processPeakBytes / MIB)} MiB`;
  return ` (${describeTransfer({ bytesDone: progress.bytesDone, bytesPerSecond: 0 })} read in ${took}${peak})`;
}

/**
 * How long until the progress shown is written again (0: now). Each status write wakes the reconcile again through the
 * watch: at most every PROGRESS_MS, but the first bytes read at once (a restore of a few seconds would otherwise show
 * one report, or none).
 */
function progressDueIn(shown: RestoreProgress | undefined, read: RestoreProgressReport | undefined): number {
  const written = Date.parse(shown?.updatedAt ?? "");
  const firstBytes = (shown?.bytesDone ?? 0) === 0 && (read?.bytesDone ?? 0) > 0;
  return Number.isNaN(written) || firstBytes ? 0 : written + PROGRESS_MS - Date.now();
}

/** The restores of this control plane, by instance uid. */
export class InstanceRestores {
  readonly #restorer: DataRestorer;
  readonly #jobs = new Map<string, RestoreJob>();
  readonly #wake: ((instance: Instance) => void) | undefined;

  /**
   * `wake`: told when a restore has ended (done or failed), and when it has read its first bytes, so that its instance
   * is reconciled without waiting (the end settled, the first progress shown).
   */
  constructor(restorer: DataRestorer, wake?: (instance: Instance) => void) {
    this.#restorer = restorer;
    this.#wake = wake;
  }

  /**
   * One reconcile's step of the restore: start it when the data directory is not initialised, report progress while it
   * runs, and settle it when it ends. `request` names the instance (spec.restore), engine, context, accounts and host.
   */
  async step(request: Omit<RestoreRequest, "signal" | "onProgress">, io: RestoreStatusWriter): Promise<RestoreStep> {
    const uid = request.instance.metadata.uid ?? request.instance.metadata.name;
    const job = this.#jobs.get(uid);
    if (job !== undefined) return this.#follow(uid, job, io);
    const source = request.instance.spec.restore;
    if (source === undefined || (await request.engine.isInitialized(request.context))) return { kind: "none" };
    const refused = findCondition(request.instance.status?.conditions, RESTORED);
    if (refused?.status === "False" && refused.reason === BACKUP_DAMAGED) return { kind: "failed", message: refused.message };
    const backup = `${source.backupNamespace}/${source.backupName}`;
    // Whatever an earlier, interrupted run left is not a restore's start: begin from an empty directory.
    await clearDirectory(request.context.dataDirectory);
    const started = new RestoreJob(backup, request, this.#restorer, () => this.#wake?.(request.instance));
    this.#jobs.set(uid, started);
    void started.done.then(() => this.#wake?.(request.instance));
    const progress = restoreProgressOf(backup, started.startedAt, undefined, started.startedAt);
    await io.setStatus({ phase: "Initializing", ready: false, message: restoringMessage(progress), restoreProgress: progress });
    await io.record("Normal", "Restoring", `restoring the data from backup ${backup}; deleting the cluster cancels it`);
    return { kind: "running", requeueAfterMs: PROGRESS_MS, started: true };
  }

  /**
   * A restore of `instance` may be coming (spec.restore, not yet Restored) and none runs for it here: have the restorer
   * start what the restore will run in now, beside the work before the restore's start (the OS user, directories).
   */
  prepare(instance: Instance): void {
    const uid = instance.metadata.uid ?? instance.metadata.name;
    if (instance.spec.restore === undefined || instance.metadata.deletionTimestamp !== undefined || this.#jobs.has(uid)) return;
    if (findCondition(instance.status?.conditions, RESTORED) !== undefined) return;
    this.#restorer.prepare?.();
  }

  /** Stop the restore of instance `uid`, if one runs here; resolves once it has stopped and cleaned up. */
  async cancel(uid: string): Promise<void> {
    const job = this.#jobs.get(uid);
    if (job === undefined) return;
    await job.cancel();
    this.#jobs.delete(uid);
  }

  async #follow(uid: string, job: RestoreJob, io: RestoreStatusWriter): Promise<RestoreStep> {
    if (job.outcome === undefined) {
      const wait = progressDueIn(io.instance().status?.restoreProgress, job.progress);
      if (wait > 0) return { kind: "running", requeueAfterMs: wait };
      const progress = restoreProgressOf(job.backup, job.startedAt, job.progress, now());
      await io.setStatus({ phase: "Initializing", message: restoringMessage(progress), restoreProgress: progress });
      return { kind: "running", requeueAfterMs: PROGRESS_MS };
    }
    this.#jobs.delete(uid);
    if (!job.outcome.ok) return this.#failed(job.outcome.error, io);
    const took = formatSeconds((Date.now() - Date.parse(job.startedAt)) / 1000);
    const message = `data restored from backup ${job.backup}${restoredFigures(job.progress, took)}`;
    const conditions = setCondition(io.instance().status?.conditions, { type: RESTORED, status: "True", reason: "RestoredFromBackup", message });
    await io.setStatus({ conditions, restoreProgress: undefined, message: undefined });
    await io.record("Normal", "Restored", message);
    return { kind: "none" };
  }

  /** A damaged backup is recorded, so that it is not read again; any failure fails this start (retried with backoff). */
  async #failed(error: unknown, io: RestoreStatusWriter): Promise<RestoreStep> {
    const conditions =
      error instanceof BackupDamagedError ? setCondition(io.instance().status?.conditions, { type: RESTORED, status: "False", reason: BACKUP_DAMAGED, message: error.message }) : io.instance().status?.conditions;
    await io.setStatus({ conditions, restoreProgress: undefined });
    return { kind: "failed", message: errorMessage(error) };
  }
}
