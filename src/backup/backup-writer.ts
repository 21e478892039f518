/**
 * Writes one backup: named plaintext streams in, encrypted chunks out as they fill, the manifest last. Until
 * `commit` stores the manifest the backup does not exist for readers; `abort` removes what was written. Chunks are
 * stored without a sync each and made durable in one batch (`flush`) just before the manifest.
 */
import { createHash, createHmac, randomBytes } from "node:crypto";
import type { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ConflictError, InvalidError, NotFoundError } from "../errors/index.ts";
import { dataKeyAssociatedData, deriveBackupKeys, FORMAT_ID, newDataKey, type BackupKeys } from "./chunk-crypto.ts";
import type { ChunkCodec } from "./chunk-codec.ts";
import { assertProcessMax, ChunkPool, defaultProcessMax } from "./chunk-pool.ts";
import { blockKey, layoutKey, openIncrementalBase, type IncrementalBase } from "./incremental-base.ts";
import { sealManifest, type ChunkEntry, type ManifestBody, type StreamEntry } from "./manifest.ts";
import type { OpenBackupOptions } from "./open-manifest.ts";
import { encodeOnPool, type ReuseCheck } from "./pooled-codec.ts";
import { releaseChunkMemory } from "./release-memory.ts";
import { assertBackupId, assertStreamName, chunkKey, manifestKey, sessionDataPrefix } from "./object-keys.ts";
import type { BackupRepository } from "./repository.ts";
import { StreamChunker, type ChunkFacts, type ChunkSink, type UnreadSegment } from "./stream-chunker.ts";
import type { ChunkLayout, MemberPlace } from "./tar-boundaries.ts";
import { ChunkedStream, Slots } from "./writer-streams.ts";
import type { WriteGrant, WrittenStream } from "./write-grant.ts";
import { ProgressMeter, type BackupKeyring, type BackupSummary, type Compression, type ParentStream, type StreamOptions, type StreamSummary, type TransferProgress } from "./types.ts";

/** A chunk handed over by the chunker. */
interface PendingChunk {
  index: number;
  data: Buffer;
  final: boolean;
  owned: boolean;
  place: MemberPlace | undefined;
  /** Its tar layout and the layout's MAC (recorded as `layout`), outside large members. */
  layout: { mac: string; of: ChunkLayout } | undefined;
  /** Runs of unread file data (zeros in `data` until read). */
  unread: UnreadSegment[];
}

/** Default plaintext bytes per chunk. */
export const DEFAULT_CHUNK_SIZE = 4 * 1024 * 1024;
const MAX_CHUNK_SIZE = 64 * 1024 * 1024;
const DEFAULT_ZSTD_LEVEL = 1;

/** What to back up into, and how. */
export interface BackupWriterOptions {
  repository: BackupRepository;
  keyring: BackupKeyring;
  /** Unique in the repository: one letter-or-digit-led key segment. */
  backupId: string;
  /** Opaque JSON object stored (encrypted) in the manifest: engine, method, time range... */
  metadata: Record<string, unknown>;
  /** Plaintext bytes per chunk (default 4 MiB). */
  chunkSize?: number;
  compression?: Compression;
  /** zstd level 1-19 (default 1: on two cores level 3 costs about a third of the throughput for ~1% smaller backups). */
  compressionLevel?: number;
  /** Worker threads compressing, encrypting and hashing chunks (default `defaultProcessMax()`). */
  processMax?: number;
  /** Worker threads already started (ChunkPool.warm), used instead of starting `processMax` new ones; the writer ends them with itself. */
  pool?: ChunkPool;
  /** Chunks being compressed, encrypted or uploaded at once, across streams (default processMax + 2); bounds memory. */
  maxChunksInFlight?: number;
  /**
   * Make an incremental backup on this earlier backup of the same repository (its id and recorded manifest digest):
   * chunks whose content the parent's chain already holds are referenced, not stored again.
   */
  parent?: { backupId: string; expectedManifestSha256?: string };
  onProgress?: (progress: TransferProgress) => void;
}

type WriterState = "writing" | "committed" | "aborted";

/** The keys and places a writer works with: its own (create), or a grant's (fromGrant: chunks only, no commit). */
interface WriterMaterial {
  dataKey: Buffer;
  keys: BackupKeys;
  base: IncrementalBase | undefined;
  /** A grant's session prefix and stream ordinal; absent: a new session from ordinal 0. */
  granted?: { sessionPrefix: string; ordinal: number };
  /** A grant's content key (the granting writer's: the one its manifest records); absent: the base's, or a new one. */
  contentKey?: Buffer;
}

/** A keyring a grant's writer never uses: it commits nothing. */
const NO_KEYRING: BackupKeyring = {
  encrypt: () => {
    throw new ConflictError("a writer of a grant stores chunks only; the control plane commits the manifest");
  },
  decrypt: () => {
    throw new ConflictError("a writer of a grant reads no key");
  },
};

/** One backup being written. Create with `BackupWriter.create`. */
export class BackupWriter {
  readonly backupId: string;
  readonly createdAt: string;
  readonly #repository: BackupRepository;
  readonly #keyring: BackupKeyring;
  readonly #metadata: Record<string, unknown>;
  readonly #chunkSize: number;
  readonly #codec: ChunkCodec;
  readonly #keys: BackupKeys;
  readonly #pool: ChunkPool;
  readonly #contentKey: Buffer;
  readonly #base: IncrementalBase | undefined;
  readonly #dataKey: Buffer;
  readonly #sessionPrefix: string;
  readonly #slots: Slots;
  readonly #meter: ProgressMeter;
  readonly #streams = new Map<string, ChunkedStream>();
  readonly #known: readonly string[];
  readonly #granted: boolean;
  readonly #firstOrdinal: number;
  #state: WriterState = "writing";
  #failure: Error | undefined;

  private constructor(options: BackupWriterOptions, material: WriterMaterial) {
    const { dataKey, keys, base, granted, contentKey } = material;
    this.backupId = options.backupId;
    this.createdAt = new Date().toISOString();
    this.#repository = options.repository;
    this.#keyring = options.keyring;
    this.#metadata = structuredClone(options.metadata);
    this.#chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    this.#codec = { chunkKey: keys.chunkKey, compression: options.compression ?? "zstd", level: options.compressionLevel ?? DEFAULT_ZSTD_LEVEL };
    this.#keys = keys;
    this.#base = base;
    this.#contentKey = contentKey ?? base?.contentKey ?? randomBytes(32);
    this.#known = base === undefined ? [] : [...base.reusable.keys()];
    this.#pool = options.pool ?? new ChunkPool(options.processMax ?? defaultProcessMax());
    const processMax = this.#pool.size;
    this.#dataKey = dataKey;
    const place = granted ?? { sessionPrefix: sessionDataPrefix(options.backupId, randomBytes(6).toString("hex")), ordinal: 0 };
    this.#sessionPrefix = place.sessionPrefix;
    this.#granted = granted !== undefined;
    this.#firstOrdinal = place.ordinal;
    this.#slots = new Slots(options.maxChunksInFlight ?? processMax + 2);
    this.#meter = new ProgressMeter(options.onProgress);
  }

  /** Start a backup; ConflictError when a complete backup with this id already exists. */
  static async create(options: BackupWriterOptions): Promise<BackupWriter> {
    validateOptions(options);
    await assertNoManifest(options.repository, options.backupId);
    const base = options.parent === undefined ? undefined : await openIncrementalBase(parentOptions(options, options.parent));
    const dataKey = newDataKey();
    return new BackupWriter(options, { dataKey, keys: deriveBackupKeys(dataKey, options.backupId), base });
  }

  /**
   * A writer of one stream under `grant` (writeGrant), in a process of its own: it stores the stream's chunks in the
   * granted session and stream ordinal and tells what it wrote (`written`); it cannot commit nor read a key.
   */
  static fromGrant(repository: BackupRepository, grant: WriteGrant, options: Pick<BackupWriterOptions, "processMax" | "onProgress" | "pool"> = {}): BackupWriter {
    const chunkKey = Buffer.from(grant.chunkKey, "base64");
    const base = grant.base === undefined ? undefined : baseOfGrant(grant.base);
    const writerOptions: BackupWriterOptions = { repository, keyring: NO_KEYRING, backupId: grant.backupId, metadata: {}, chunkSize: grant.chunkSize, compression: grant.compression, compressionLevel: grant.level, ...options };
    if (grant.maxChunksInFlight !== undefined) writerOptions.maxChunksInFlight = grant.maxChunksInFlight;
    validateOptions(writerOptions);
    const keys = { chunkKey, manifestKey: Buffer.alloc(32) };
    const contentKey = Buffer.from(grant.contentKey, "base64");
    return new BackupWriter(writerOptions, { dataKey: Buffer.alloc(32), keys, base, contentKey, granted: { sessionPrefix: grant.sessionPrefix, ordinal: grant.ordinal } });
  }

  /**
   * Reserve stream `name` for a writer of its own (`fromGrant`, in another process) and give what it needs: the chunk
   * key, never the data key. The stream stays open, so the backup cannot commit, until `adoptStream` records it.
   */
  grantStream(name: string, maxChunksInFlight?: number): WriteGrant {
    this.assertWriting();
    assertStreamName(name);
    if (this.#streams.has(name)) throw new ConflictError(`stream "${name}" is already part of backup ${this.backupId}`);
    const ordinal = this.#streams.size;
    this.#streams.set(name, new ChunkedStream(name, ordinal));
    const base = this.#base === undefined ? undefined : grantOfBase(this.#base);
    return {
      backupId: this.backupId,
      sessionPrefix: this.#sessionPrefix,
      stream: name,
      ordinal,
      chunkKey: this.#keys.chunkKey.toString("base64"),
      contentKey: this.#contentKey.toString("base64"),
      chunkSize: this.#chunkSize,
      compression: this.#codec.compression,
      level: this.#codec.level,
      ...(maxChunksInFlight === undefined ? {} : { maxChunksInFlight }),
      ...(base === undefined ? {} : { base }),
    };
  }

  /** Count one chunk a granted writer stored (its progress, as if this writer had stored it). */
  countGrantedChunk(name: string, plaintextBytes: number, storedBytes: number): void {
    this.#meter.add(name, plaintextBytes, storedBytes);
  }

  /**
   * Record what a granted writer wrote of stream `name`: every chunk, in order, stored under this writer's session
   * (or, reused, by a backup of the chain). The stream is then done, as if written here.
   */
  adoptStream(name: string, written: WrittenStream): void {
    this.assertHealthy();
    const reserved = this.#streams.get(name);
    if (reserved?.state !== "open") throw new ConflictError(`stream "${name}" of backup ${this.backupId} was not granted, or is already written`);
    const adopted = new ChunkedStream(name, reserved.ordinal, { attributes: written.attributes });
    written.chunks.forEach((chunk, index) => {
      const here = chunk.origin === undefined && chunk.key.startsWith(this.#sessionPrefix);
      if (chunk.index !== index || (!here && chunk.origin === undefined)) throw new InvalidError(`backup ${this.backupId}: chunk ${index} of stream "${name}" written elsewhere is not in order or not of this backup`);
      adopted.record(chunk);
    });
    for (const note of written.notes) adopted.note(note);
    adopted.state = "done";
    this.#streams.set(name, adopted);
  }

  /** What this writer wrote of stream `name` (a grant's writer tells it to the control plane). */
  written(name: string): WrittenStream {
    const stream = this.#streams.get(name);
    if (stream?.state !== "done") throw new ConflictError(`stream "${name}" of backup ${this.backupId} is not written`);
    const entry = stream.entry();
    return { chunks: entry.chunks, ...(entry.attributes === undefined ? {} : { attributes: entry.attributes }), notes: [...stream.notes] };
  }

  /** End a grant's writer: its workers end and its keys are wiped; what it stored stays for the control plane. */
  async close(): Promise<void> {
    if (this.#state === "writing") this.#state = "aborted";
    await this.release();
  }

  /** A Writable for stream `name`; its `finish` fires once every chunk of it is durably stored. */
  createStream(name: string, options: StreamOptions = {}): Writable {
    this.assertWriting();
    assertStreamName(name);
    if (this.#streams.has(name)) throw new ConflictError(`stream "${name}" is already part of backup ${this.backupId}`);
    const parentAttributes = this.#base?.attributes.get(name);
    const unchanged = parentAttributes === undefined ? undefined : options.unchangedSince?.(parentAttributes);
    const stream = new ChunkedStream(name, this.#firstOrdinal + this.#streams.size, { attributes: options.attributes, unchanged, macPlaced: options.macPlacedChunks ?? true, recycle: options.recycle });
    this.#streams.set(name, stream);
    if (parentAttributes !== undefined) options.withParent?.(this.parentStream(stream, parentAttributes));
    const chunker = new StreamChunker(this.#chunkSize, this.sinkFor(stream), {
      handsOver: options.handsOver ?? false,
      indivisible: (data) => stream.isPlaceholder(data),
      unread: (data) => stream.unreadSource(data),
    });
    stream.attach(chunker);
    return chunker;
  }

  /** What the parent recorded of stream `name` (its attributes), for an incremental backup; undefined otherwise. */
  parentAttributes(name: string): Readonly<Record<string, string>> | undefined {
    return this.#base?.attributes.get(name);
  }

  /** Write all of `source` as stream `name`. */
  async writeStream(name: string, source: Readable | AsyncIterable<Uint8Array>, options: StreamOptions = {}): Promise<StreamSummary> {
    const target = this.createStream(name, options);
    await pipeline(source, target);
    const stream = this.#streams.get(name);
    if (stream === undefined) throw new NotFoundError(`stream "${name}" vanished from backup ${this.backupId}`);
    return stream.summary();
  }

  /** Store the manifest (atomically, last): from now on the backup is complete. */
  async commit(): Promise<BackupSummary> {
    this.assertWriting();
    if (this.#granted) throw new ConflictError(`a writer of a grant of backup ${this.backupId} stores chunks only; the control plane commits the manifest`);
    if (this.#failure !== undefined) {
      throw new InvalidError(`backup ${this.backupId} failed (${this.#failure.message}); abort it and take a new backup`, { cause: this.#failure });
    }
    const streams = [...this.#streams.values()];
    const failed = streams.filter((stream) => stream.state === "failed").map((stream) => stream.name);
    if (failed.length > 0) throw new InvalidError(`backup ${this.backupId}: stream(s) ${failed.join(", ")} failed; abort it and take a new backup`);
    const open = streams.filter((stream) => stream.state === "open").map((stream) => stream.name);
    if (open.length > 0) throw new InvalidError(`backup ${this.backupId}: stream(s) ${open.join(", ")} are not finished; end them before commit`);
    await assertNoManifest(this.#repository, this.backupId);
    const entries = [...this.#streams.values()].map((stream) => stream.entry());
    const notes = new Map([...this.#streams.values()].map((stream) => [stream.name, stream.notes] as const));
    // The chunks were stored without a sync each: make them durable in one batch before the manifest names them.
    await this.#repository.flush(entries.flatMap((entry) => entry.chunks.filter((chunk) => chunk.origin === undefined).map((chunk) => chunk.key)));
    const completedAt = new Date().toISOString();
    const header = {
      format: FORMAT_ID,
      backupId: this.backupId,
      createdAt: this.createdAt,
      completedAt,
      dataPrefix: this.#sessionPrefix,
      wrappedKey: this.#keyring.encrypt(this.#dataKey, dataKeyAssociatedData(this.backupId)),
    } as const;
    const body: ManifestBody = {
      metadata: this.#metadata,
      compression: this.#codec.compression,
      chunkSize: this.#chunkSize,
      streams: entries,
      contentKey: this.#contentKey.toString("base64"),
      ...(this.#base === undefined ? {} : { chain: this.#base.chain }),
    };
    const manifest = sealManifest(this.#keys, header, body);
    await this.#repository.put(manifestKey(this.backupId), manifest);
    this.#state = "committed";
    await this.release();
    return summarize(header, entries, createHash("sha256").update(manifest).digest("hex"), notes);
  }

  /** Stop writing and delete every object this writer stored. Returns how many. Safe to call more than once. */
  async abort(reason = "the backup was aborted"): Promise<number> {
    if (this.#state === "committed") throw new ConflictError(`backup ${this.backupId} is already complete; delete it instead`);
    this.#state = "aborted";
    this.#failure ??= new InvalidError(reason);
    await Promise.allSettled([...this.#streams.values()].map((stream) => stream.destroy(this.#failure)));
    const keys: string[] = [];
    for await (const object of this.#repository.list(this.#sessionPrefix)) keys.push(object.key);
    for (const key of keys) await this.#repository.delete(key);
    // A writer that died mid-write (a backup process killed) leaves its staging files, which no listing shows.
    await this.#repository.sweepIncompleteUploads(new Date(Date.now() + 60_000), this.#sessionPrefix);
    await this.release();
    return keys.length;
  }

  private sinkFor(stream: ChunkedStream): ChunkSink {
    return {
      accept: async (index, data, final, owned, facts) => {
        this.assertHealthy();
        await this.#slots.acquire();
        if (this.#failure !== undefined) {
          this.#slots.release();
          throw this.#failure;
        }
        const chunk = { index, data, final, owned, place: facts.place, layout: this.layoutOf(facts, data.length), unread: facts.unread };
        stream.track(this.storeChunk(stream, chunk).finally(() => this.#slots.release()));
      },
      finish: () => stream.settle(),
    };
  }

  /** Encode one chunk on the pool and store it, or record the stored chunk of the chain with the same content. */
  private async storeChunk(stream: ChunkedStream, chunk: PendingChunk): Promise<void> {
    try {
      const { index, final } = chunk;
      const plaintextBytes = chunk.data.length;
      const where = { ...(chunk.place === undefined ? {} : { file: chunk.place.member, offset: chunk.place.offset }), ...(chunk.layout === undefined ? {} : { layout: chunk.layout.mac }) };
      if (this.takeFromParent(stream, chunk) || this.takeByLayout(stream, chunk)) return;
      await readUnread(chunk);
      const place = { backupId: this.backupId, stream: stream.name, ordinal: stream.ordinal, index, final };
      const reuse = chunk.place !== undefined && !stream.macPlaced ? undefined : this.reuseCheck();
      const encoded = await encodeOnPool(this.#pool, this.#codec, { place, plaintext: chunk.data, owned: chunk.owned }, reuse);
      if (encoded.stored === undefined) {
        stream.record({ ...withoutPlace(this.reused(encoded.mac, index, plaintextBytes)), ...where });
        this.#meter.add(stream.name, plaintextBytes, 0);
        return;
      }
      const key = chunkKey(this.#sessionPrefix, stream.ordinal, index);
      const storedBytes = encoded.stored.length;
      await this.#repository.put(key, encoded.stored, { deferSync: true });
      // It came from a worker thread as memory of its own, and is written.
      releaseChunkMemory(encoded.stored);
      const mac = encoded.mac === undefined ? {} : { mac: encoded.mac };
      stream.record({ index, key, storedBytes, plaintextBytes, sha256: encoded.sha256, ...mac, ...where });
      this.#meter.add(stream.name, plaintextBytes, storedBytes);
    } catch (error) {
      this.#failure ??= error instanceof Error ? error : new Error(String(error));
      throw error;
    }
  }

  private assertWriting(): void {
    if (this.#state !== "writing") throw new ConflictError(`backup ${this.backupId} is already ${this.#state}`);
  }

  private assertHealthy(): void {
    this.assertWriting();
    if (this.#failure !== undefined) throw this.#failure;
  }

  /** What the workers need to recognise content the chain already holds (every chunk gets a content MAC). */
  private reuseCheck(): ReuseCheck {
    return { contentKey: this.#contentKey, known: this.#known };
  }

  /**
   * The parent's chunk for the same file and offset, when it has the same size and the stream's method vouches
   * this chunk's content unchanged since the parent (for PostgreSQL: every page's LSN is older than the parent's
   * start). Nothing is hashed: the method's test is what decides.
   */
  /** Record the parent's chunk for a placeholder, or for a chunk the method's test vouches unchanged; false otherwise. */
  private takeFromParent(stream: ChunkedStream, chunk: PendingChunk): boolean {
    const placeholder = stream.isPlaceholder(chunk.data);
    const unchanged = placeholder ? this.placeholderBlock(stream, chunk) : this.unchangedBlock(stream, chunk);
    if (unchanged === undefined) return false;
    const where = chunk.place === undefined ? {} : { file: chunk.place.member, offset: chunk.place.offset };
    stream.record({ ...withoutPlace(unchanged), index: chunk.index, ...where, ...(chunk.layout === undefined ? {} : { layout: chunk.layout.mac }) });
    // A buffer handed over whole is ours: the method may read into it again.
    if (chunk.owned && !placeholder) stream.recycle?.(chunk.data);
    this.#meter.add(stream.name, chunk.data.length, 0);
    return true;
  }

  /**
   * The layout MAC of a chunk outside large members: its tar headers (names, sizes, mtimes, modes, owners), where it
   * starts in the first member, and its size. With every member's data unchanged, equal layouts mean equal bytes.
   */
  private layoutOf(facts: ChunkFacts, size: number): PendingChunk["layout"] {
    if (facts.layout === undefined) return undefined;
    const hmac = createHmac("sha256", this.#contentKey).update("holdfast tar layout 1\0");
    const position = Buffer.alloc(16);
    position.writeBigUInt64BE(BigInt(facts.layout.skew), 0);
    position.writeBigUInt64BE(BigInt(size), 8);
    hmac.update(position);
    for (const header of facts.layout.headers) hmac.update(header);
    return { mac: hmac.digest("hex"), of: facts.layout };
  }

  /**
   * A chunk holding unread file data: the parent's chunk with the same layout, when every data byte of this one is
   * unread (vouched unchanged since the parent read it by the method) — then the bytes are the parent's. Otherwise
   * false, and the unread data is read.
   */
  private takeByLayout(stream: ChunkedStream, chunk: PendingChunk): boolean {
    if (chunk.unread.length === 0 || chunk.layout === undefined) return false;
    const unreadBytes = chunk.unread.reduce((total, segment) => total + segment.length, 0);
    if (unreadBytes !== chunk.layout.of.dataBytes) return false;
    const stored = this.#base?.layouts.get(layoutKey(stream.name, chunk.layout.mac));
    if (stored?.plaintextBytes !== chunk.data.length) return false;
    stream.record({ ...withoutPlace(stored), index: chunk.index, layout: chunk.layout.mac });
    this.#meter.add(stream.name, chunk.data.length, 0);
    return true;
  }

  private unchangedBlock(stream: ChunkedStream, chunk: PendingChunk): ChunkEntry | undefined {
    if (stream.unchanged === undefined || chunk.place === undefined) return undefined;
    const stored = this.parentBlock(stream.name, chunk.place.member, chunk.place.offset, chunk.data.length);
    return stored !== undefined && stream.unchanged(chunk.place.member, chunk.place.offset, chunk.data) ? stored : undefined;
  }

  /** The parent's chunk a placeholder stands for; the backup fails when there is none (its bytes are not the data). */
  private placeholderBlock(stream: ChunkedStream, chunk: PendingChunk): ChunkEntry {
    const stored = chunk.place === undefined ? undefined : this.parentBlock(stream.name, chunk.place.member, chunk.place.offset, chunk.data.length);
    if (stored === undefined) throw new InvalidError(`backup ${this.backupId}: chunk ${chunk.index} of stream "${stream.name}" was written as the parent's, but the parent holds no such chunk`);
    return stored;
  }

  /** The parent's chunk of `file` at `offset`, when it is `size` bytes. */
  private parentBlock(stream: string, file: string, offset: number, size: number): ChunkEntry | undefined {
    const stored = this.#base?.blocks.get(blockKey(stream, file, offset));
    return stored?.plaintextBytes === size ? stored : undefined;
  }

  /** What the method of an incremental's stream is told of the parent. */
  private parentStream(stream: ChunkedStream, attributes: Readonly<Record<string, string>>): ParentStream {
    return {
      attributes,
      holds: (file, offset, size) => this.parentBlock(stream.name, file, offset, size) !== undefined,
      placeholder: (size) => stream.placeholder(size),
      unread: (size, load) => stream.unread(size, load),
      note: (text) => stream.note(text),
    };
  }

  /** The chain's stored chunk with content MAC `mac`, as this backup's chunk `index`. */
  private reused(mac: string, index: number, plaintextBytes: number): ChunkEntry {
    const stored = this.#base?.reusable.get(mac);
    if (stored?.plaintextBytes !== plaintextBytes) throw new InvalidError(`backup ${this.backupId}: a reused chunk's size does not match its content`);
    return { ...stored, index };
  }

  /** End the workers and wipe the keys. */
  private async release(): Promise<void> {
    await this.#pool.close();
    this.#dataKey.fill(0);
    this.#keys.chunkKey.fill(0);
    this.#keys.manifestKey.fill(0);
    this.#contentKey.fill(0);
  }
}

/** What a grant carries of an incremental's base (its chain stays with the control plane, which commits). */
function grantOfBase(base: IncrementalBase): NonNullable<WriteGrant["base"]> {
  return { contentKey: base.contentKey.toString("base64"), reusable: [...base.reusable], blocks: [...base.blocks], layouts: [...base.layouts], attributes: [...base.attributes] };
}

function baseOfGrant(granted: NonNullable<WriteGrant["base"]>): IncrementalBase {
  return { chain: [], contentKey: Buffer.from(granted.contentKey, "base64"), reusable: new Map(granted.reusable), blocks: new Map(granted.blocks), layouts: new Map(granted.layouts), attributes: new Map(granted.attributes) };
}

/** A chain's chunk entry without the file place and layout it had in the backup that listed it. */
function withoutPlace(entry: ChunkEntry): ChunkEntry {
  const { file: _file, offset: _offset, layout: _layout, ...rest } = entry;
  return rest;
}

/** Read a chunk's unread file data into it (its own buffer: the chunker copied the zeros). */
async function readUnread(chunk: PendingChunk): Promise<void> {
  await Promise.all(chunk.unread.map((segment) => segment.source.load(segment.offset, chunk.data.subarray(segment.at, segment.at + segment.length))));
}

function validateOptions(options: BackupWriterOptions): void {
  assertBackupId(options.backupId);
  assertWholeNumber("chunk size", options.chunkSize ?? DEFAULT_CHUNK_SIZE, 1, MAX_CHUNK_SIZE);
  assertWholeNumber("zstd level", options.compressionLevel ?? DEFAULT_ZSTD_LEVEL, 1, 19);
  assertWholeNumber("chunks in flight", options.maxChunksInFlight ?? 4, 1, 64);
  if (options.processMax !== undefined) assertProcessMax(options.processMax);
  if (JSON.stringify(options.metadata).length > 1024 * 1024) throw new InvalidError("backup metadata must be under 1 MiB of JSON");
}

function assertWholeNumber(what: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) throw new InvalidError(`${what} must be a whole number from ${min} to ${max}`);
}

function parentOptions(options: BackupWriterOptions, parent: NonNullable<BackupWriterOptions["parent"]>): OpenBackupOptions {
  if (parent.backupId === options.backupId) throw new InvalidError(`backup ${options.backupId} cannot be its own parent`);
  const expected = parent.expectedManifestSha256 === undefined ? {} : { expectedManifestSha256: parent.expectedManifestSha256 };
  return { repository: options.repository, keyring: options.keyring, backupId: parent.backupId, ...expected };
}

async function assertNoManifest(repository: BackupRepository, backupId: string): Promise<void> {
  try {
    await repository.get(manifestKey(backupId), { maxBytes: 64 * 1024 * 1024 });
  } catch (error) {
    if (error instanceof NotFoundError) return;
    throw error;
  }
  throw new ConflictError(`backup ${backupId} already exists in ${repository.location}; choose another backup id or delete it first`);
}

function summarize(header: { backupId: string; createdAt: string; completedAt: string }, entries: StreamEntry[], manifestSha256: string, notes: ReadonlyMap<string, readonly string[]>): BackupSummary {
  // An incremental backup's stored bytes are what it added; the chunks it reuses are counted apart.
  const added = (entry: StreamEntry): ChunkEntry[] => entry.chunks.filter((chunk) => chunk.origin === undefined);
  const streams = entries.map((entry) => ({
    name: entry.name,
    plaintextBytes: entry.plaintextBytes,
    storedBytes: added(entry).reduce((total, chunk) => total + chunk.storedBytes, 0),
    chunks: entry.chunks.length,
    ...((notes.get(entry.name)?.length ?? 0) === 0 ? {} : { notes: [...(notes.get(entry.name) ?? [])] }),
  }));
  const reusedChunks = entries.reduce((total, entry) => total + entry.chunks.length - added(entry).length, 0);
  const sum = (pick: (stream: StreamSummary) => number): number => streams.reduce((total, stream) => total + pick(stream), 0);
  return {
    backupId: header.backupId,
    manifestKey: manifestKey(header.backupId),
    manifestSha256,
    createdAt: header.createdAt,
    completedAt: header.completedAt,
    streams,
    plaintextBytes: sum((s) => s.plaintextBytes),
    storedBytes: sum((s) => s.storedBytes),
    chunks: sum((s) => s.chunks),
    reusedChunks,
    durationMs: Date.parse(header.completedAt) - Date.parse(header.createdAt),
  };
}
