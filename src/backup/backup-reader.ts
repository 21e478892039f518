/**
 * Reads a complete backup back: the manifest is authenticated on open; each chunk is checked (size, SHA-256,
 * AES-GCM tag bound to its place) before any of its plaintext is handed out.
 */
import { Readable } from "node:stream";
import { ForbiddenError, InvalidError, NotFoundError, UnavailableError } from "../errors/index.ts";
import { decodeChunk, type ChunkCodec } from "./chunk-codec.ts";
import type { ChunkPlace } from "./chunk-crypto.ts";
import { ChunkPool, defaultProcessMax } from "./chunk-pool.ts";
import { BackupIntegrityError } from "./integrity-error.ts";
import type { ChunkEntry, StreamEntry } from "./manifest.ts";
import { openChainKeys } from "./open-chain.ts";
import { openManifest, type OpenBackupOptions } from "./open-manifest.ts";
import { decodeOnPool } from "./pooled-codec.ts";
import { readGrantSchema, type ReadGrant } from "./read-grant.ts";
import type { BackupRepository } from "./repository.ts";
import { ProgressMeter, type StreamSummary, type TransferProgress } from "./types.ts";

/** Options for reading a stream. */
export interface ReadStreamOptions {
  onProgress?: (progress: TransferProgress) => void;
  /** Worker threads checking, decrypting and decompressing chunks (default `defaultProcessMax()`); 0: on this thread. */
  processMax?: number;
  /** Chunks fetched and checked ahead of the consumer (default processMax + 1). */
  prefetch?: number;
  /** Worker threads already started by the caller (ChunkPool.warm), used instead of starting `processMax` new ones; left open. */
  pool?: ChunkPool | undefined;
}

/** The worker threads a stream read starts for itself: none when the caller gives its own or asks for this thread. */
function ownPool(options: ReadStreamOptions): ChunkPool | undefined {
  return options.pool === undefined && options.processMax !== 0 ? new ChunkPool(options.processMax ?? defaultProcessMax()) : undefined;
}

/**
 * Open a complete backup for reading; see `openManifest` for the errors. An incremental backup's chain is opened too:
 * a missing, damaged or replaced link is a BackupIntegrityError naming it.
 */
export async function openBackup(options: OpenBackupOptions): Promise<BackupReader> {
  const opened = await openManifest(options);
  opened.dataKey.fill(0);
  opened.keys.manifestKey.fill(0);
  const linkKeys = await openChainKeys(options, opened.body.chain ?? []);
  const { envelope, body } = opened;
  return new BackupReader(options.repository, {
    backupId: envelope.backupId,
    createdAt: envelope.createdAt,
    completedAt: envelope.completedAt,
    manifestSha256: opened.manifestSha256,
    metadata: body.metadata,
    compression: body.compression,
    streams: body.streams,
    chunkKey: opened.keys.chunkKey,
    linkKeys,
  });
}

/** What a reader is made of: an authenticated manifest's streams and the chunk keys. */
export interface ReaderParts extends Omit<ReadGrant, "chunkKey" | "linkKeys"> {
  chunkKey: Buffer;
  linkKeys: ReadonlyMap<string, Buffer>;
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
  /** Chunk keys of the chain's links, by backup id. */
  readonly #linkKeys: ReadonlyMap<string, Buffer>;
  readonly #entries: ReadonlyMap<string, StreamEntry>;

  /** Use `openBackup` (or `fromGrant` in a process reading for another). */
  constructor(repository: BackupRepository, parts: ReaderParts) {
    this.backupId = parts.backupId;
    this.createdAt = parts.createdAt;
    this.completedAt = parts.completedAt;
    this.manifestSha256 = parts.manifestSha256;
    this.metadata = parts.metadata;
    this.#repository = repository;
    this.#codec = { chunkKey: parts.chunkKey, compression: parts.compression, level: 1 };
    this.#linkKeys = parts.linkKeys;
    this.#entries = new Map(parts.streams.map((stream) => [stream.name, stream]));
    this.streams = parts.streams.map((stream) => ({
      name: stream.name,
      plaintextBytes: stream.plaintextBytes,
      // What this backup stored itself, as the writer's summary counts it (an incremental's reused chunks are not).
      storedBytes: stream.chunks.reduce((total, chunk) => total + (chunk.origin === undefined ? chunk.storedBytes : 0), 0),
      chunks: stream.chunks.length,
    }));
  }

  /** A reader over `repository` from a grant another process made with `grant()` (parsed here: it crossed a pipe). */
  static fromGrant(repository: BackupRepository, grant: unknown): BackupReader {
    const parsed = readGrantSchema.parse(grant);
    const linkKeys = new Map(parsed.linkKeys.map(([id, key]) => [id, Buffer.from(key, "base64")]));
    return new BackupReader(repository, { ...parsed, chunkKey: Buffer.from(parsed.chunkKey, "base64"), linkKeys });
  }

  /** This reader's manifest and chunk keys as plain data, for a process that reads the chunks itself. */
  grant(): ReadGrant {
    return {
      backupId: this.backupId,
      createdAt: this.createdAt,
      completedAt: this.completedAt,
      manifestSha256: this.manifestSha256,
      metadata: { ...this.metadata },
      compression: this.#codec.compression,
      streams: [...this.#entries.values()],
      chunkKey: this.#codec.chunkKey.toString("base64"),
      linkKeys: [...this.#linkKeys].map(([id, key]) => [id, key.toString("base64")]),
    };
  }

  /** The earlier backups an incremental backup reads chunks from, oldest first (none for a full backup). */
  get chain(): string[] {
    return [...this.#linkKeys.keys()];
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

  /** One chunk's plaintext, checked: on `pool`'s worker threads when given, else on this thread. */
  async readChunk(name: string, index: number, pool?: ChunkPool): Promise<Buffer> {
    const stream = this.entry(name);
    const chunk = stream.chunks[index];
    if (chunk === undefined) throw new NotFoundError(`backup ${this.backupId} stream "${name}" has no chunk ${index}`);
    const { codec, place } = this.storedAt(stream, chunk);
    const stored = await this.fetch(place, chunk);
    return pool === undefined ? decodeChunk(codec, place, chunk, stored) : decodeOnPool(pool, codec, place, chunk, stored);
  }

  /** The codec and place a chunk was sealed with: this backup's, or (reused) the chain link's that stored it. */
  private storedAt(stream: StreamEntry, chunk: ChunkEntry): { codec: ChunkCodec; place: ChunkPlace } {
    if (chunk.origin === undefined) {
      return { codec: this.#codec, place: { backupId: this.backupId, stream: stream.name, ordinal: stream.ordinal, index: chunk.index, final: chunk.index === stream.chunks.length - 1 } };
    }
    const chunkKey = this.#linkKeys.get(chunk.origin.backupId);
    if (chunkKey === undefined) throw new NotFoundError(`backup ${this.backupId}: chunk ${chunk.index} of "${stream.name}" comes from ${chunk.origin.backupId}, which its chain does not name`);
    return { codec: { ...this.#codec, chunkKey }, place: chunk.origin };
  }

  private async *plaintextChunks(stream: StreamEntry, options: ReadStreamOptions): AsyncGenerator<Buffer> {
    const own = ownPool(options);
    const pool = options.pool ?? own;
    const depth = Math.max(1, options.prefetch ?? (pool?.size ?? 0) + 1);
    const meter = new ProgressMeter(options.onProgress);
    const pending: Array<Promise<Buffer>> = [];
    let next = 0;
    const fill = (): void => {
      while (pending.length < depth && next < stream.chunks.length) {
        const reading = this.readChunk(stream.name, next++, pool);
        reading.catch(() => undefined); // awaited in order below; this only keeps an early failure from going unhandled
        pending.push(reading);
      }
    };
    try {
      fill();
      for (let index = 0; index < stream.chunks.length; index++) {
        const reading = pending.shift();
        if (reading === undefined) break;
        const plaintext = await reading;
        fill();
        meter.add(stream.name, plaintext.length, stream.chunks[index]?.storedBytes ?? 0);
        if (plaintext.length > 0) yield plaintext;
      }
    } finally {
      await own?.close();
    }
  }

  private async fetch(place: ChunkPlace, chunk: ChunkEntry): Promise<Buffer> {
    const location = { backupId: place.backupId, objectKey: chunk.key, stream: place.stream, chunkIndex: place.index };
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
