/**
 * Reads a complete backup back: the manifest is authenticated on open; each chunk is checked (size, SHA-256,
 * AES-GCM tag bound to its place) before any of its plaintext is handed out.
 */
import { Readable } from "node:stream";
import { ForbiddenError, InvalidError, NotFoundError, UnavailableError } from "../errors/index.ts";
import { decodeChunk, type ChunkCodec } from "./chunk-codec.ts";
import { BackupIntegrityError } from "./integrity-error.ts";
import type { ChunkEntry, StreamEntry } from "./manifest.ts";
import { openManifest, type OpenBackupOptions } from "./open-manifest.ts";
import type { BackupRepository } from "./repository.ts";
import { ProgressMeter, type StreamSummary, type TransferProgress } from "./types.ts";

/** Options for reading a stream. */
export interface ReadStreamOptions {
  onProgress?: (progress: TransferProgress) => void;
  /** Chunks fetched and checked ahead of the consumer (default 2). */
  prefetch?: number;
}

/** Open a complete backup for reading; see `openManifest` for the errors. */
export async function openBackup(options: OpenBackupOptions): Promise<BackupReader> {
  const opened = await openManifest(options);
  opened.dataKey.fill(0);
  return new BackupReader(options.repository, opened);
}

/** A complete, authenticated backup. */
export class BackupReader {
  readonly backupId: string;
  readonly createdAt: string;
  readonly completedAt: string;
  readonly manifestSha256: string;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly streams: readonly StreamSummary[];
  readonly #repository: BackupRepository;
  readonly #codec: ChunkCodec;
  readonly #entries: ReadonlyMap<string, StreamEntry>;

  /** Use `openBackup`. */
  constructor(repository: BackupRepository, opened: Awaited<ReturnType<typeof openManifest>>) {
    this.backupId = opened.envelope.backupId;
    this.createdAt = opened.envelope.createdAt;
    this.completedAt = opened.envelope.completedAt;
    this.manifestSha256 = opened.manifestSha256;
    this.metadata = opened.body.metadata;
    this.#repository = repository;
    this.#codec = { keys: opened.keys, compression: opened.body.compression, level: 1 };
    this.#entries = new Map(opened.body.streams.map((stream) => [stream.name, stream]));
    this.streams = opened.body.streams.map((stream) => ({
      name: stream.name,
      plaintextBytes: stream.plaintextBytes,
      storedBytes: stream.storedBytes,
      chunks: stream.chunks.length,
    }));
  }

  /** Every chunk of every stream, in order: what `verifyBackup` walks. */
  chunkList(): Array<{ stream: string; index: number; key: string }> {
    return [...this.#entries.values()].flatMap((stream) => stream.chunks.map((chunk) => ({ stream: stream.name, index: chunk.index, key: chunk.key })));
  }

  /** The plaintext of stream `name`, checked chunk by chunk; the stream errors with a BackupIntegrityError at the first bad chunk. */
  openStream(name: string, options: ReadStreamOptions = {}): Readable {
    const stream = this.entry(name);
    return Readable.from(this.plaintextChunks(stream, options), { objectMode: false, highWaterMark: 1 });
  }

  /** One chunk's plaintext, checked. */
  async readChunk(name: string, index: number): Promise<Buffer> {
    const stream = this.entry(name);
    const chunk = stream.chunks[index];
    if (chunk === undefined) throw new NotFoundError(`backup ${this.backupId} stream "${name}" has no chunk ${index}`);
    const stored = await this.fetch(stream, chunk);
    const place = { backupId: this.backupId, stream: name, ordinal: stream.ordinal, index, final: index === stream.chunks.length - 1 };
    return decodeChunk(this.#codec, place, chunk, stored);
  }

  private async *plaintextChunks(stream: StreamEntry, options: ReadStreamOptions): AsyncGenerator<Buffer> {
    const depth = Math.max(1, options.prefetch ?? 2);
    const meter = new ProgressMeter(options.onProgress);
    const pending: Array<Promise<Buffer>> = [];
    let next = 0;
    const fill = (): void => {
      while (pending.length < depth && next < stream.chunks.length) {
        const reading = this.readChunk(stream.name, next++);
        reading.catch(() => undefined); // awaited in order below; this only keeps an early failure from going unhandled
        pending.push(reading);
      }
    };
    fill();
    for (let index = 0; index < stream.chunks.length; index++) {
      const reading = pending.shift();
      if (reading === undefined) break;
      const plaintext = await reading;
      fill();
      meter.add(stream.name, plaintext.length, stream.chunks[index]?.storedBytes ?? 0);
      if (plaintext.length > 0) yield plaintext;
    }
  }

  private async fetch(stream: StreamEntry, chunk: ChunkEntry): Promise<Buffer> {
    const location = { backupId: this.backupId, objectKey: chunk.key, stream: stream.name, chunkIndex: chunk.index };
    try {
      return await this.#repository.get(chunk.key, { maxBytes: chunk.storedBytes });
    } catch (error) {
      if (error instanceof NotFoundError) {
        throw new BackupIntegrityError("missing", location, "the chunk is missing from the repository: it was deleted or never stored", error);
      }
      if (error instanceof InvalidError) {
        throw new BackupIntegrityError("size", location, `the object is larger than the ${chunk.storedBytes} bytes the manifest says`, error);
      }
      if (error instanceof UnavailableError || error instanceof ForbiddenError) throw error;
      throw new BackupIntegrityError("unreadable", location, `the chunk cannot be read: ${error instanceof Error ? error.message : String(error)}`, error);
    }
  }

  private entry(name: string): StreamEntry {
    const stream = this.#entries.get(name);
    if (stream === undefined) {
      const names = [...this.#entries.keys()].join(", ");
      throw new NotFoundError(`backup ${this.backupId} has no stream "${name}"; it has: ${names === "" ? "none" : names}`);
    }
    return stream;
  }
}
