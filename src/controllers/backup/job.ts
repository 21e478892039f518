/**
 * One backup being taken, in the background: the engine's method streams into a BackupWriter, which commits the
 * manifest last. A failure or cancellation aborts the writer, deleting what it stored. The reconciler reads the
 * job's progress and outcome; the job itself never writes to the store.
 */
import { BackupWriter, type BackupKeyring, type BackupRepository, type BackupSummary, type TransferProgress } from "../../backup/index.ts";
import { errorMessage } from "../../errors/index.ts";
import type { BackupMethodDefinition, Credentials, HostAccess, InstanceContext } from "../../engines/index.ts";

/** Everything a job needs, resolved by the reconciler. */
export interface BackupJobSpec {
  backupId: string;
  repository: BackupRepository;
  keyring: BackupKeyring;
  method: BackupMethodDefinition;
  instance: InstanceContext;
  account: Credentials;
  /** See BackupContext.scratchDirectory. */
  scratchDirectory: string;
  host: HostAccess;
  /** Stored (encrypted) in the manifest: what the backup is of. */
  metadata: Record<string, unknown>;
}

/** How a job ended. */
export type BackupJobOutcome = { ok: true; summary: BackupSummary } | { ok: false; reason: string };

/** A running (or finished) backup job. */
export class BackupJob {
  readonly backupId: string;
  readonly done: Promise<BackupJobOutcome>;
  #progress: TransferProgress | undefined;
  #outcome: BackupJobOutcome | undefined;
  readonly #abort = new AbortController();

  /** Start the job; `onFinish` is called once it has ended, whatever the outcome. */
  constructor(spec: BackupJobSpec, onFinish: () => void) {
    this.backupId = spec.backupId;
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
    let writer: BackupWriter | undefined;
    try {
      writer = await BackupWriter.create({
        repository: spec.repository,
        keyring: spec.keyring,
        backupId: spec.backupId,
        metadata: spec.metadata,
        onProgress: (progress) => (this.#progress = progress),
      });
      const context = { instance: spec.instance, account: spec.account, scratchDirectory: spec.scratchDirectory, signal: this.#abort.signal };
      await spec.method.backup(context, writer, spec.host);
      if (this.#abort.signal.aborted) throw new Error("the backup was cancelled");
      return { ok: true, summary: await writer.commit() };
    } catch (error) {
      const reason = this.#abort.signal.aborted ? "the backup was cancelled" : errorMessage(error);
      await writer?.abort(reason).catch(() => undefined);
      return { ok: false, reason };
    }
  }
}
