/**
 * What a restore reads, counted and cancellable: every stream handed to the engine passes through here, so the
 * bytes read are known without the engine's help, and an abort destroys the stream being read, which stops the
 * unpack it feeds (or kills the command it feeds: pg_restore) and fails the restore.
 */
import { addAbortSignal, Readable } from "node:stream";
import type { ArchivedLogFile, BackupSource, LogArchiveSource } from "../engines/index.ts";

/** How far a restore has come. */
export interface RestoreProgressReport {
  /** Backup (plaintext) bytes read so far. */
  bytesDone: number;
  /** Bytes of the backups opened so far, from their manifests. */
  totalBytes: number;
  elapsedMs: number;
  /** Peak resident memory (bytes) of the restore's own process, once one has ended (ADR 0050). */
  processPeakBytes?: number;
}

/** A backup opened for a restore: its streams and how big they are. */
export interface SizedBackupSource extends BackupSource {
  readonly streams: readonly { plaintextBytes: number }[];
}

/** Counts the bytes of a restore and reports them after each chunk. */
export class RestoreMeter {
  readonly #started = performance.now();
  readonly #signal: AbortSignal | undefined;
  readonly #report: ((progress: RestoreProgressReport) => void) | undefined;
  #bytesDone = 0;
  #totalBytes = 0;
  #processPeak: number | undefined;

  constructor(options: { signal?: AbortSignal | undefined; onProgress?: ((progress: RestoreProgressReport) => void) | undefined }) {
    this.#signal = options.signal;
    this.#report = options.onProgress;
  }

  /** The backup's streams, counted and cancellable; its size is added to the total. */
  track(source: SizedBackupSource): BackupSource {
    this.#totalBytes += source.streams.reduce((sum, stream) => sum + stream.plaintextBytes, 0);
    this.#emit();
    return { openStream: (name) => this.#wrap(source.openStream(name), true) };
  }

  /** An archived log, cancellable (not counted: how much of it a restore reads is not known beforehand). */
  trackLog(log: LogArchiveSource): LogArchiveSource {
    return {
      names: () => log.names(),
      file: async (name): Promise<ArchivedLogFile> => {
        const file = await log.file(name);
        return { ...file, open: () => this.#wrap(file.open(), false) };
      },
    };
  }

  /** What a restore's own process reports to: the cancel signal, and the bytes it read, counted here. */
  processWatch(): { signal: AbortSignal | undefined; onBytes: (bytes: number) => void } {
    return { signal: this.#signal, onBytes: (bytes) => this.#add(bytes) };
  }

  /** A restore process ended with this peak resident memory (bytes); the largest is reported from now on. */
  notePeak(bytes: number): void {
    this.#processPeak = Math.max(this.#processPeak ?? 0, bytes);
    this.#emit();
  }

  /** The progress now. */
  snapshot(): RestoreProgressReport {
    const peak = this.#processPeak === undefined ? {} : { processPeakBytes: this.#processPeak };
    return { bytesDone: this.#bytesDone, totalBytes: this.#totalBytes, elapsedMs: performance.now() - this.#started, ...peak };
  }

  #wrap(inner: Readable, counted: boolean): Readable {
    const add = (bytes: number): void => this.#add(bytes);
    async function* pass(): AsyncGenerator<Buffer> {
      for await (const chunk of inner as AsyncIterable<Buffer>) {
        if (counted) add(chunk.length);
        yield chunk;
      }
    }
    const outer = Readable.from(pass(), { objectMode: false, highWaterMark: 1 });
    if (this.#signal !== undefined) addAbortSignal(this.#signal, outer);
    // Destroying the outer stream ends the generator, whose loop then destroys the inner one (a chunk fetch in flight).
    outer.once("close", () => inner.destroy());
    return outer;
  }

  #add(bytes: number): void {
    this.#bytesDone += bytes;
    this.#emit();
  }

  #emit(): void {
    this.#report?.(this.snapshot());
  }
}
