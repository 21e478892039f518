/** The audit log writer: hash-chained JSON lines, group-committed and overlapping fsyncs, signed checkpoints. */
import { randomUUID } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { InternalError, UnavailableError, errorMessage } from "../../errors/index.ts";
import { sealRecordWithLine } from "./chain.ts";
import { makeCheckpoint, writeCheckpointFile } from "./checkpoint.ts";
import { syncDirectory } from "./files.ts";
import { loadOrCreateAuditKeys, type AuditKeys } from "./keys.ts";
import { LOG_FILE, SYNCS_IN_FLIGHT, openAuditFile, type AuditFile, type AuditFileOpener } from "./log-file.ts";
import { auditLevelFor } from "./policy.ts";
import { auditEventInputSchema, type AuditCheckpointRecord, type AuditEventInput, type AuditEventRecord, type AuditLevel, type AuditRecord } from "./record.ts";
import { AuditListeners, type AuditListener } from "./listeners.ts";
import { keyedHmac, redact } from "./redact.ts";
import { findChainHead, moveTornLineAside, type ChainHead } from "./resume.ts";

/** Where the log lives and how often it is checkpointed. */
export interface AuditLogOptions {
  /** Holds `audit.log` and `checkpoint.json`; created 0700. */
  directory: string;
  /** Ed25519 private key (PEM, 0600), created on first open; the public key is written to `<file>.pub`. */
  signingKeyFile: string;
  /** 32-byte HMAC key for redaction (0600), created on first open. */
  hmacKeyFile: string;
  /** Checkpoint after this many events (default 1000). */
  checkpointEvery?: number;
  /** Checkpoint at least this often while events arrive (default 10000 ms). */
  checkpointIntervalMs?: number;
  /** Opens `audit.log` for appending; tests replace it to observe or fail writes and fsyncs. */
  openFile?: AuditFileOpener;
  /** Replaces `checkpoint.json` (atomically, durably); tests replace it to slow or fail it. */
  writeCheckpoint?: (directory: string, checkpoint: AuditCheckpointRecord) => Promise<void>;
}

interface Pending {
  bytes: Buffer;
  checkpoint: AuditCheckpointRecord | undefined;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** Records written to the file in one call, not yet known durable, and the size of the log once they are. */
interface Unsynced {
  entries: Pending[];
  end: number;
}

interface LogState {
  directory: string;
  file: AuditFile;
  keys: AuditKeys;
  head: ChainHead;
  checkpointEvery: number;
  writeCheckpoint: (directory: string, checkpoint: AuditCheckpointRecord) => Promise<void>;
}

const ignore = (): void => undefined;

/** What the log reports, for metrics. */
export interface AuditObserver {
  /** An append was durable (or failed) after this many milliseconds. */
  appended(ms: number, failed: boolean): void;
}

/** The append-only, hash-chained, checkpoint-signed audit log; every resolved append is on disk. */
export class AuditLog {
  readonly #state: LogState;
  readonly #hmac: (value: string) => string;
  #nextSeq: number;
  #lastHash: string;
  #sinceCheckpoint: number;
  /** Bytes of the log known durable: a failed batch is cut back to here. */
  #committedSize: number;
  #queue: Pending[] = [];
  /** Records of the batch being written. */
  #writing = 0;
  /** Bytes of the log written so far (durable or not). */
  #writtenSize: number;
  /** Batches written and waiting for an fdatasync, oldest first. */
  #unsynced: Unsynced[] = [];
  /** The fdatasyncs in flight (they never reject: a failure is kept in #syncFailure for the flush loop). */
  readonly #syncs = new Set<Promise<void>>();
  #syncFailure: unknown;
  /** Wakes the flush loop when it waits for work and a record arrives. */
  #wake: (() => void) | undefined;
  #observer: AuditObserver | undefined;
  #flushing: Promise<void> | undefined;
  /** The newest checkpoint durable in the log and not yet copied to `checkpoint.json`. */
  #unpublished: AuditCheckpointRecord | undefined;
  #publishing: Promise<void> | undefined;
  /** Why `checkpoint.json` could not be replaced; the flush loop fails the log with it. */
  #publishFailure: unknown;
  #failure: UnavailableError | undefined;
  #closed = false;
  readonly #timer: NodeJS.Timeout;
  readonly #listeners = new AuditListeners();

  private constructor(state: LogState, checkpointIntervalMs: number) {
    this.#state = state;
    this.#hmac = keyedHmac(state.keys.hmacKey);
    this.#nextSeq = state.head.lastSeq + 1;
    this.#lastHash = state.head.lastHash;
    this.#sinceCheckpoint = state.head.uncovered ? 1 : 0;
    this.#committedSize = state.head.size;
    this.#writtenSize = state.head.size;
    this.#timer = setInterval(() => this.#checkpointIfDue(), checkpointIntervalMs);
    // The timer must not keep a CLI process alive; close() writes the last checkpoint.
    this.#timer.unref();
  }

  /** Open (or create) the log in `options.directory` and resume its chain. */
  static async open(options: AuditLogOptions): Promise<AuditLog> {
    const { directory } = options;
    try {
      await mkdir(directory, { recursive: true, mode: 0o700 });
      const keys = await loadOrCreateAuditKeys(options.signingKeyFile, options.hmacKeyFile);
      const head = await findChainHead(directory, keys.publicKey);
      const file = await (options.openFile ?? openAuditFile)(join(directory, LOG_FILE));
      await repairTail(directory, file, head);
      const state = { directory, file, keys, head, checkpointEvery: positive(options.checkpointEvery, 1000), writeCheckpoint: options.writeCheckpoint ?? writeCheckpointFile };
      return new AuditLog(state, positive(options.checkpointIntervalMs, 10_000));
    } catch (error) {
      if (error instanceof UnavailableError) throw error;
      throw new UnavailableError(`cannot open the audit log in ${directory} (${errorMessage(error)}); check the directory and its permissions`, { cause: error });
    }
  }

  /** `hmac-sha256:<hex>` of `value` under this log's key: lets records link equal secrets without holding them. */
  hmac(value: string): string {
    return this.#hmac(value);
  }

  /** Record one event; resolves once it is durably on disk, rejects with UnavailableError when it cannot be. */
  async append(input: AuditEventInput): Promise<AuditEventRecord> {
    const started = performance.now();
    try {
      this.#assertWritable();
      const { record, line } = this.#seal(input);
      const durable = this.#enqueue(record, line, undefined);
      this.#sinceCheckpoint += 1;
      if (this.#sinceCheckpoint >= this.#state.checkpointEvery) this.#enqueueCheckpoint();
      await durable;
      this.#observer?.appended(performance.now() - started, false);
      this.#listeners.tell(record);
      return record;
    } catch (error) {
      this.#observer?.appended(performance.now() - started, true);
      throw error;
    }
  }

  /** Records accepted and not yet durable: queued, being written, or written and waiting for an fdatasync. */
  get pending(): number {
    return this.#queue.length + this.#writing + this.#unsynced.reduce((sum, batch) => sum + batch.entries.length, 0);
  }

  /** Report each append to `observer` from now on (metrics). */
  observe(observer: AuditObserver): void {
    this.#observer = observer;
  }

  /**
   * Call `listener` with every event once it is durable, and once with the failure that stops the log, in order, on a
   * later turn of the event loop (never inside the append); returns how to stop.
   */
  subscribe(listener: AuditListener): () => void {
    return this.#listeners.add(listener);
  }

  /** The size in bytes of `audit.log` as this writer last made it durable (a smaller file was cut by someone else). */
  get committedSize(): number {
    return this.#committedSize;
  }

  /** Where the log lives. */
  get directory(): string {
    return this.#state.directory;
  }

  /** Write a final checkpoint, wait for every queued record to be durable, and close the file. */
  async close(): Promise<void> {
    if (this.#closed) return;
    clearInterval(this.#timer);
    this.#checkpointIfDue();
    this.#closed = true;
    await this.#flushing;
    await this.#publishing;
    await this.#flushing;
    await this.#state.file.close();
  }

  #assertWritable(): void {
    if (this.#failure) throw this.#failure;
    if (this.#closed) throw new UnavailableError("the audit log is closed; open it again to record events");
  }

  #seal(input: AuditEventInput): { record: AuditEventRecord; line: string } {
    const parsed = auditEventInputSchema.safeParse(input);
    if (!parsed.success) {
      const causes = parsed.error.issues.map((issue) => ({ field: issue.path.join("."), message: issue.message }));
      throw new InternalError("the audit event is malformed: a bug in the code that builds it; the fields below say what is wrong", { causes });
    }
    const { requestObject, auditID, level, stageTimestamp, stage, ...fields } = parsed.data;
    const effective = effectiveLevel(fields.verb, fields.objectRef, level);
    const draft = {
      ...fields,
      type: "event" as const,
      kind: "Event" as const,
      apiVersion: "audit.k8s.io/v1" as const,
      auditID: auditID ?? randomUUID(),
      stage: stage ?? "ResponseComplete",
      level: effective,
      stageTimestamp: stageTimestamp ?? new Date().toISOString(),
      // Through JSON once, so the hashed value is exactly what verify will parse back.
      ...(effective === "Request" && requestObject !== undefined ? { requestObject: JSON.parse(JSON.stringify(redact(requestObject, this.#hmac))) as unknown } : {}),
      seq: this.#nextSeq,
      prevHash: this.#lastHash,
    };
    return sealRecordWithLine(draft);
  }

  #checkpointIfDue(): void {
    if (this.#sinceCheckpoint > 0 && !this.#failure && !this.#closed) this.#enqueueCheckpoint();
  }

  #enqueueCheckpoint(): void {
    const checkpoint = makeCheckpoint(this.#nextSeq, this.#lastHash, this.#state.keys);
    this.#sinceCheckpoint = 0;
    this.#enqueue(checkpoint, `${JSON.stringify(checkpoint)}\n`, checkpoint).catch(ignore);
  }

  /** Chain the record and queue it; the promise settles when the batch holding it is durable or has failed. */
  #enqueue(record: AuditRecord, line: string, checkpoint: AuditCheckpointRecord | undefined): Promise<void> {
    this.#nextSeq = record.seq + 1;
    this.#lastHash = record.hash;
    const bytes = Buffer.from(line, "utf8");
    const { promise, resolve, reject } = Promise.withResolvers<undefined>();
    this.#queue.push({ bytes, checkpoint, resolve: () => resolve(undefined), reject });
    this.#kick();
    return promise;
  }

  /** Start the flush loop, or wake it if it waits for work. */
  #kick(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
    this.#flushing ??= this.#flushLoop();
  }

  /**
   * Group commit with overlapping fsyncs. Writes go to the file one batch at a time, in chain order; each written batch
   * gets its own fdatasync at once, while the next batch is written (up to SYNCS_IN_FLIGHT of them in flight), instead
   * of waiting for the previous fsync to return first. A record is acknowledged only when an fdatasync that began after
   * its write has returned (which makes everything written before it durable), in order. A record that arrived while a
   * slow fsync ran used to wait for that fsync, then for its own; now it waits for its own.
   */
  async #flushLoop(): Promise<void> {
    for (;;) {
      const work = this.#queue.length > 0 || this.#syncFailure !== undefined || this.#publishFailure !== undefined;
      if (!work && this.#syncs.size === 0) break;
      if (!work) await Promise.race([...this.#syncs, this.#arrival()]);
      else if (this.#syncs.size >= SYNCS_IN_FLIGHT) await Promise.race(this.#syncs);
      else await this.#step();
    }
    // Same synchronous step as the checks above: an append cannot slip in between.
    this.#flushing = undefined;
  }

  #arrival(): Promise<void> {
    const { promise, resolve } = Promise.withResolvers<undefined>();
    this.#wake = () => resolve(undefined);
    return promise;
  }

  /** Fail the log on a problem an fsync or checkpoint.json reported, or write the next batch. */
  async #step(): Promise<void> {
    const problem = this.#syncFailure ?? this.#publishFailure;
    if (problem === undefined) return this.#write(this.#queue.splice(0));
    // #syncFailure stays set until the log has failed: no fsync that returns meanwhile acknowledges anything.
    if (!this.#failure) await this.#fail(problem, []);
    this.#syncFailure = undefined;
    this.#publishFailure = undefined;
    this.#rejectAll([]);
  }

  async #write(batch: Pending[]): Promise<void> {
    if (this.#failure) return this.#rejectAll(batch);
    const data = Buffer.concat(batch.map((entry) => entry.bytes));
    this.#writing = batch.length;
    try {
      await this.#state.file.write(data);
    } catch (error) {
      await this.#fail(error, batch);
      return;
    } finally {
      this.#writing = 0;
    }
    this.#writtenSize += data.length;
    this.#unsynced.push({ entries: batch, end: this.#writtenSize });
    this.#sync(this.#writtenSize);
  }

  /** fdatasync everything written up to `end`; on success the batches up to there are durable. */
  #sync(end: number): void {
    const done: Promise<void> = this.#state.file
      .sync()
      .then(
        () => this.#durable(end),
        (error: unknown) => {
          this.#syncFailure ??= error ?? new Error("fdatasync failed");
        },
      )
      .finally(() => this.#syncs.delete(done));
    this.#syncs.add(done);
  }

  #durable(end: number): void {
    if (this.#syncFailure !== undefined || this.#failure) return;
    let checkpoint: AuditCheckpointRecord | undefined;
    for (let batch = this.#unsynced[0]; batch !== undefined && batch.end <= end; batch = this.#unsynced[0]) {
      this.#unsynced.shift();
      this.#committedSize = batch.end;
      for (const entry of batch.entries) {
        entry.resolve();
        checkpoint = entry.checkpoint ?? checkpoint;
      }
    }
    if (checkpoint) this.#publish(checkpoint);
  }

  /**
   * Copy a checkpoint that is durable in the log to `checkpoint.json`, beside the commits rather than between them:
   * the file's two fsyncs (file and directory) used to hold back every record that arrived meanwhile. Only the newest
   * checkpoint is written when several wait, and the file never runs ahead of the log. A failure fails the log, in
   * the flush loop, as a failed write does.
   */
  #publish(checkpoint: AuditCheckpointRecord): void {
    this.#unpublished = checkpoint;
    this.#publishing ??= this.#publishLoop();
  }

  async #publishLoop(): Promise<void> {
    for (let next = this.#unpublished; next !== undefined && !this.#failure; next = this.#unpublished) {
      this.#unpublished = undefined;
      try {
        await this.#state.writeCheckpoint(this.#state.directory, next);
      } catch (error) {
        this.#unpublished = undefined;
        this.#publishFailure = error ?? new Error("checkpoint.json cannot be written");
        this.#kick();
      }
    }
    // Same synchronous step as the check above: a checkpoint cannot slip in between.
    this.#publishing = undefined;
  }

  /**
   * After a failed write or fsync nothing later can be chained safely: drop what is not known durable and refuse until
   * reopened. The fsyncs in flight settle first (what they make durable stays acknowledged), so nothing of this writer
   * is in flight when the file is cut back.
   */
  async #fail(error: unknown, batch: Pending[]): Promise<void> {
    await Promise.all(this.#syncs);
    this.#failure = new UnavailableError(
      `the audit log in ${this.#state.directory} cannot be written (${errorMessage(error)}); requests that must be audited are refused until the disk is fixed and Holdfast restarted`,
      { cause: error },
    );
    this.#rejectAll([...this.#unsynced.splice(0).flatMap((unsynced) => unsynced.entries), ...batch]);
    this.#listeners.tell(undefined, this.#failure);
    await this.#state.file.truncate(this.#committedSize).catch(ignore);
    await this.#state.file.sync().catch(ignore);
  }

  #rejectAll(batch: Pending[]): void {
    for (const entry of [...batch, ...this.#queue.splice(0)]) entry.reject(this.#failure ?? new UnavailableError("the audit log failed"));
  }
}

async function repairTail(directory: string, file: AuditFile, head: ChainHead): Promise<void> {
  if (head.size === 0 && head.torn.length === 0) await syncDirectory(directory);
  if ((await moveTornLineAside(directory, head)) === undefined) return;
  await file.truncate(head.size);
  await file.sync();
}

function effectiveLevel(verb: string, objectRef: AuditEventInput["objectRef"], requested: AuditLevel | undefined): AuditLevel {
  const allowed = objectRef ? auditLevelFor(objectRef.resource, objectRef.apiGroup ?? "", verb) : "Metadata";
  return requested === "Metadata" ? "Metadata" : allowed;
}

function positive(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value >= 1 ? value : fallback;
}
