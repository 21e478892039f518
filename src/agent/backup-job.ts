/**
 * One backup being taken, in the background: the engine's method streams into a BackupWriter, which commits the
 * manifest last. A failure or cancellation aborts the writer, deleting what it stored; a failure worth it is retried
 * (with a new writer) up to the policy's backoffLimit. The node agent's backup runner reports the job's progress, retries and outcome;
 * the job itself never writes to the store. Given the repository's address, an engine's data-directory archive runs
 * in a process of its own per attempt (src/backup-process, ADR 0044); the manifest is committed here, after it.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { BackupWriter, type BackupKeyring, type BackupRepository, type BackupSummary, type RepositoryAddress, type TransferProgress } from "../backup/index.ts";
import { archivingSink, type ArchiveFigures } from "../backup-process/index.ts";
import { errorMessage } from "../errors/index.ts";
import type { BackupContext, BackupMethodDefinition, Credentials, HostAccess, InstanceContext } from "../engines/index.ts";
import type { ParentLink } from "../dataprotection/index.ts";
import { isRetryable, retryDelayMs } from "./backup-retry.ts";

/** Everything a job needs, resolved by the backup runner. */
export interface BackupJobSpec {
  backupId: string;
  repository: BackupRepository;
  /** Where `repository` is, as data: given, a data-directory archive runs in a process of its own that writes there. */
  repositoryAddress?: RepositoryAddress;
  keyring: BackupKeyring;
  method: BackupMethodDefinition;
  instance: InstanceContext;
  account: Credentials;
  /** See BackupContext.scratchDirectory. */
  scratchDirectory: string;
  host: HostAccess;
  /** Stored (encrypted) in the manifest: what the backup is of. */
  metadata: Record<string, unknown>;
  /** Failed attempts to retry (BackupPolicy.spec.backoffLimit; absent: none). */
  backoffLimit?: number | undefined;
  /** Delay before the first retry (default RETRY_FIRST_MS). */
  firstRetryMs?: number;
  /** Worker threads of the writer (BackupPolicy annotation holdfast.io/backup-process-max; absent: the default). */
  processMax?: number;
  /** An incremental backup's parent (Backup spec.parentBackupName). */
  parent?: ParentLink;
  /** The node agent's module compile cache, for a process of its own (HomePaths.moduleCacheDir). */
  compileCache?: string;
}

/** How a job ended; a success says how each process of its own went (its streams, its peak memory). */
export type BackupJobOutcome = { ok: true; summary: BackupSummary; processes: ArchiveFigures[] } | { ok: false; reason: string };

type AttemptOutcome = { ok: true; summary: BackupSummary; processes: ArchiveFigures[] } | { ok: false; reason: string; retryable: boolean };

/** A running (or finished) backup job. */
export class BackupJob {
  readonly backupId: string;
  readonly done: Promise<BackupJobOutcome>;
  #progress: TransferProgress | undefined;
  #outcome: BackupJobOutcome | undefined;
  #estimatedTotalBytes: number | undefined;
  #retries = 0;
  #lastRetryReason: string | undefined;
  readonly #backoffLimit: number;
  readonly #abort = new AbortController();

  /** Start the job; `onFinish` is called once it has ended, whatever the outcome. */
  constructor(spec: BackupJobSpec, onFinish: () => void) {
    this.backupId = spec.backupId;
    this.#backoffLimit = spec.backoffLimit ?? 0;
    this.done = this.#run(spec).then((outcome) => {
      this.#outcome = outcome;
      onFinish();
      return outcome;
    });
  }

  /** The last progress reported (after each stored chunk). */
  get progress(): TransferProgress | undefined {
    return this.#progress;
  }

  /** The database bytes the method expected before it started, when it can tell. */
  get estimatedTotalBytes(): number | undefined {
    return this.#estimatedTotalBytes;
  }

  /** Failed attempts retried so far, of how many allowed, and why the last one failed. */
  get retries(): { count: number; limit: number; lastReason: string | undefined } {
    return { count: this.#retries, limit: this.#backoffLimit, lastReason: this.#lastRetryReason };
  }

  /** The outcome, once finished. */
  get outcome(): BackupJobOutcome | undefined {
    return this.#outcome;
  }

  /** Stop the job; its partial data is deleted. Resolves when it has ended. */
  async cancel(): Promise<BackupJobOutcome> {
    this.#abort.abort();
    return this.done;
  }

  async #run(spec: BackupJobSpec): Promise<BackupJobOutcome> {
    const signal = this.#abort.signal;
    const context: BackupContext = { instance: spec.instance, account: spec.account, scratchDirectory: spec.scratchDirectory, signal };
    // The estimate only feeds the ETA: asked beside the first attempt, not before it (its own SQL session, ~0.1 s).
    void spec.method.estimateSize?.(context).then((bytes) => (this.#estimatedTotalBytes ??= bytes), () => undefined);
    for (;;) {
      const outcome = await this.#attempt(spec, context);
      if (outcome.ok) return outcome;
      const delay = outcome.retryable && !signal.aborted ? retryDelayMs(this.#retries, spec.backoffLimit, spec.firstRetryMs) : undefined;
      if (delay === undefined) return { ok: false, reason: this.#retries === 0 ? outcome.reason : `${outcome.reason} (after ${this.#retries} retries)` };
      this.#retries++;
      this.#lastRetryReason = outcome.reason;
      this.#progress = undefined;
      await sleep(delay, undefined, { signal }).catch(() => undefined);
      if (signal.aborted) return { ok: false, reason: "the backup was cancelled" };
    }
  }

  /** One attempt, into a writer of its own: what a failed attempt stored is deleted before it returns. */
  async #attempt(spec: BackupJobSpec, context: BackupContext): Promise<AttemptOutcome> {
    let writer: BackupWriter | undefined;
    const processes: ArchiveFigures[] = [];
    try {
      writer = await BackupWriter.create({
        repository: spec.repository,
        keyring: spec.keyring,
        backupId: spec.backupId,
        metadata: spec.metadata,
        onProgress: (progress) => (this.#progress = progress),
        ...(spec.processMax === undefined ? {} : { processMax: spec.processMax }),
        ...(spec.parent === undefined ? {} : { parent: spec.parent }),
      });
      const address = spec.repositoryAddress;
      const sink = address === undefined ? writer : archivingSink(writer, { repository: address, processMax: spec.processMax, compileCache: spec.compileCache, signal: context.signal, onFinished: (figures) => processes.push(figures) });
      await spec.method.backup(context, sink, spec.host);
      if (context.signal.aborted) throw new Error("the backup was cancelled");
      return { ok: true, summary: await writer.commit(), processes };
    } catch (error) {
      const reason = context.signal.aborted ? "the backup was cancelled" : errorMessage(error);
      await writer?.abort(reason).catch(() => undefined);
      return { ok: false, reason, retryable: isRetryable(error) };
    }
  }
}
