/**
 * The node agent's side of a full backup (what a Job's pod is to KubeBlocks' backup controller). The backup
 * controller validates a Backup, picks the target instance and records that decision (status.source, phase Running);
 * the agent of the node that instance is bound to then runs the engine's method into a BackupWriter (backup-job.ts)
 * and reports in the fields it alone writes: status.run (its state and, once committed, the manifest's digest and
 * sizes), status.progress, status.retries and status.lastRetryReason. The controller turns status.run into the
 * phase. status.run says Running before a byte is written, so a backup whose agent stopped is found at the agent's
 * next start and settled from the repository (backup-recovery.ts): never Completed without a committed manifest.
 */
import { chmod, mkdir, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { now, type Backup, type BackupRun, type BackupStatus, type BackupPolicy, type Instance } from "../api/index.ts";
import { openRepositoryAt, type BackupKeyring, type RepositoryAddress } from "../backup/index.ts";
import { keepBackupProcessReady, type ArchiveFigures } from "../backup-process/index.ts";
import { backupCredentials, backupIdOf, continuousMethodsOf, findBackupRepo, repositoryAddress } from "../dataprotection/index.ts";
import { errorMessage, NotFoundError } from "../errors/index.ts";
import type { Store } from "../store/index.ts";
import type { Logger } from "../util/index.ts";
import { splitKey, type EventRecorder, type ReconcileResult, type Reconciler } from "../controllers/runtime/index.ts";
import { BackupJob, type BackupJobSpec } from "./backup-job.ts";
import { finalProgress, progressOf } from "./backup-progress.ts";
import { settleInterruptedBackup } from "./backup-recovery.ts";
import { writerSettings } from "./backup-writer-settings.ts";
import { boundHere, localInstance, type LocalInstanceDeps } from "./local-instance.ts";

/** How often a running backup's progress is written to its status. */
const PROGRESS_MS = 1000;
const MIB = 1024 * 1024;

/** What the backup runner needs. */
export interface BackupRunnerOptions extends LocalInstanceDeps {
  store: Store;
  /** Wraps the data keys of what the jobs write. */
  keyring: BackupKeyring;
  events: EventRecorder;
  /** Gets one line per backup process (its stream, bytes, time and peak memory). */
  logger?: Logger;
}

/** Runs the full backups of the instances bound to this node. */
export class BackupRunner implements Reconciler {
  readonly #o: BackupRunnerOptions;
  /** Jobs of this agent, by Backup uid. */
  readonly #jobs = new Map<string, BackupJob>();
  readonly #finished: ((key: string) => void)[] = [];
  /** Staging files older than this were left by writers of an earlier start of this agent. */
  readonly #startedAt = new Date();
  /** The scratch directory, emptied once per agent start before the first job uses it. */
  #scratch: Promise<void> | undefined;

  constructor(options: BackupRunnerOptions) {
    this.#o = options;
  }

  /** Be told when a job ends, to report it at once. */
  onJobFinished(listener: (key: string) => void): void {
    this.#finished.push(listener);
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const { namespace = "default", name } = splitKey(key);
    const backup = await this.#o.store.get<Backup>({ kind: "Backup", namespace, name });
    // Continuous backups are the WAL archiver's; a backup without a recorded target is not handed out yet.
    if (backup === undefined || backup.status?.source === undefined || this.#continuous(backup)) return undefined;
    const job = this.#jobs.get(backup.metadata.uid ?? "");
    if (job !== undefined) return this.#follow(backup, job);
    const run = backup.status.run;
    if (run === undefined) return this.#start(key, backup);
    if (run.state === "Running" && run.node === this.#o.nodeName) return this.#settle(backup);
    return undefined;
  }

  #continuous(backup: Backup): boolean {
    return continuousMethodsOf(this.#o.engines.list()).has(backup.spec.backupMethod);
  }

  /** Start the job of a backup the controller handed to an instance of this node. */
  async #start(key: string, backup: Backup): Promise<ReconcileResult | undefined> {
    if (backup.metadata.deletionTimestamp !== undefined || backup.status?.phase !== "Running") return undefined;
    // The process the backup's data may run in starts now, beside the job's preparation (ADR 0044).
    keepBackupProcessReady(this.#o.paths.moduleCacheDir);
    const namespace = backup.metadata.namespace ?? "default";
    const instance = await this.#o.store.get<Instance>({ kind: "Instance", namespace, name: backup.status.source?.instance ?? "" });
    // An instance deleted before its backup started: the controller fails the backup.
    if (instance === undefined || !boundHere(instance, this.#o.nodeName)) return undefined;
    const spec = await this.#jobSpec(backup, instance);
    if ("problem" in spec) {
      await this.#setRun(backup, { state: "Failed", startedAt: now(), finishedAt: now(), reason: spec.problem });
      return undefined;
    }
    // Running is recorded before a byte is written: a stop from here on is found and settled at the next start.
    const live = await this.#setRun(backup, { state: "Running", startedAt: now() });
    this.#jobs.set(live.metadata.uid ?? "", new BackupJob(spec, () => this.#finished.forEach((listener) => listener(key))));
    return { requeueAfterMs: PROGRESS_MS };
  }

  /** Everything the job needs, read on this node; or why it cannot run here. */
  async #jobSpec(backup: Backup, instance: Instance): Promise<BackupJobSpec | { problem: string }> {
    const namespace = backup.metadata.namespace ?? "default";
    const local = await localInstance(this.#o, instance);
    if ("problem" in local) return local;
    const method = local.engine.backupMethods.find((m) => m.name === backup.spec.backupMethod);
    if (method === undefined) return { problem: `${local.engine.name} has no backup method ${backup.spec.backupMethod}` };
    const policy = await this.#o.store.get<BackupPolicy>({ kind: "BackupPolicy", namespace, name: backup.spec.backupPolicyName });
    if (policy === undefined) return { problem: `BackupPolicy ${backup.spec.backupPolicyName} was deleted before the backup started` };
    const account = await backupCredentials(this.#o.store, policy, namespace);
    if ("problem" in account) return account;
    const settings = await writerSettings(this.#o.store, backup, policy);
    if ("problem" in settings) return settings;
    const address = await this.#repositoryAddress(backup);
    if ("problem" in address) return address;
    const repository = await openRepositoryAt(address);
    // The tools run as the instance's user, with a scratch directory of that user's own (the others cannot reach it).
    await this.#scratchReady();
    const scratchDirectory = join(this.#o.paths.backupScratchDir, local.user.name);
    await local.host.mkdir(scratchDirectory);
    const source = backup.status?.source;
    const metadata = { namespace, backup: backup.metadata.name, backupUid: backup.metadata.uid, cluster: source?.cluster, component: source?.component, instance: instance.metadata.name, engine: local.engine.name, version: local.version.version, method: method.name };
    return { backupId: backupIdOf(backup), repository, repositoryAddress: address, keyring: this.#o.keyring, method, instance: local.context, account, scratchDirectory, host: local.host, metadata, backoffLimit: policy.spec.backoffLimit, compileCache: this.#o.paths.moduleCacheDir, ...settings };
  }

  /** Where the backup's repository is (its process writes there); a BackupRepo deleted since the controller checked it fails the backup. */
  async #repositoryAddress(backup: Backup): Promise<RepositoryAddress | { problem: string }> {
    try {
      return await repositoryAddress(await findBackupRepo(this.#o.store, backup.status?.backupRepoName), this.#o.store);
    } catch (error) {
      // Anything but a missing BackupRepo is retried.
      if (!(error instanceof NotFoundError)) throw error;
      return { problem: errorMessage(error) };
    }
  }

  /** A job of this agent: cancel it when its Backup is being deleted; report progress, retries, then its outcome. */
  async #follow(backup: Backup, job: BackupJob): Promise<ReconcileResult | undefined> {
    if (backup.metadata.deletionTimestamp !== undefined) await job.cancel();
    const outcome = job.outcome;
    if (outcome === undefined) {
      await this.#report(backup, job);
      return { requeueAfterMs: PROGRESS_MS };
    }
    const finishedAt = now();
    if (outcome.ok) {
      const { manifestSha256, plaintextBytes, storedBytes, completedAt } = outcome.summary;
      const progress = backup.status?.progress === undefined ? {} : { progress: finalProgress(backup.status.progress, outcome.summary, finishedAt) };
      const live = await this.#setStatus(backup, { run: { ...this.#runOf(backup), state: "Succeeded", finishedAt, manifestSha256, plaintextBytes, storedBytes, completedAt }, ...progress });
      // What the method said of how it went (an incremental: which blocks it read, or why it read them all).
      for (const note of outcome.summary.streams.flatMap((stream) => stream.notes ?? [])) await this.#o.events.record(live, "Normal", "BackupMethodNote", note);
      for (const figures of outcome.processes) await this.#reportProcess(live, figures);
    } else {
      await this.#setRun(backup, { state: "Failed", finishedAt, reason: outcome.reason });
    }
    this.#jobs.delete(backup.metadata.uid ?? "");
    return undefined;
  }

  /** How a backup's own process went: a log line, and an event the bench reads its peak memory from. */
  async #reportProcess(backup: Backup, figures: ArchiveFigures): Promise<void> {
    const said = `stream ${figures.stream}: ${(figures.plaintextBytes / MIB).toFixed(0)} MiB read, encoded and stored in ${figures.seconds.toFixed(1)} s by its own process; backup process peak memory ${Math.round(figures.peakBytes / MIB)} MiB`;
    this.#o.logger?.info(`backup ${backup.metadata.namespace ?? "default"}/${backup.metadata.name}, ${said}`);
    await this.#o.events.record(backup, "Normal", "BackupProcess", said);
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

  /** Running here, but no job: this agent stopped during it. The repository decides how it ended. */
  async #settle(backup: Backup): Promise<undefined> {
    const ended = await settleInterruptedBackup({ store: this.#o.store, keyring: this.#o.keyring, nodeName: this.#o.nodeName, agentStartedAt: this.#startedAt }, backup);
    await this.#setRun(backup, { ...ended, finishedAt: now() });
    return undefined;
  }

  #runOf(backup: Backup): BackupRun {
    return backup.status?.run ?? { node: this.#o.nodeName, state: "Running", startedAt: now() };
  }

  async #setRun(backup: Backup, changes: Partial<BackupRun>): Promise<Backup> {
    return this.#setStatus(backup, { run: { ...this.#runOf(backup), node: this.#o.nodeName, ...changes } });
  }

  async #setStatus(backup: Backup, changes: Partial<BackupStatus>): Promise<Backup> {
    return this.#o.store.updateStatus<Backup>({ ...backup, status: { ...backup.status, ...changes } });
  }

  #scratchReady(): Promise<void> {
    this.#scratch ??= this.#emptyScratch().catch((error: unknown) => {
      this.#scratch = undefined;
      throw error;
    });
    return this.#scratch;
  }

  /** Credentials a job killed with an earlier start of this agent left behind go before any new job starts. */
  async #emptyScratch(): Promise<void> {
    const directory = this.#o.paths.backupScratchDir;
    await rm(directory, { recursive: true, force: true });
    // Only searchable by others: each cluster's user reaches its own directory inside (made per job), nothing else.
    await mkdir(dirname(directory), { recursive: true, mode: 0o711 });
    await mkdir(directory, { mode: 0o711 });
    await chmod(directory, 0o711);
  }
}
