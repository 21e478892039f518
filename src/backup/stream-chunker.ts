/** A Writable that cuts what is written into chunks of at most a fixed size and knows which chunk is the last. */
import { Writable } from "node:stream";
import { TarBoundaries, type ChunkLayout, type MemberPlace } from "./tar-boundaries.ts";

/** File data a method wrote as zeros without reading it (ParentStream.unread): how to read it when it is needed. */
export interface UnreadSource {
  /** Read the file's bytes from `offset` into all of `target`. */
  load(offset: number, target: Buffer): Promise<void>;
}

/** A run of a chunk's bytes that are unread file data: `length` bytes at `at`, the source's bytes from `offset`. */
export interface UnreadSegment {
  at: number;
  length: number;
  source: UnreadSource;
  offset: number;
}

/** What is known of a chunk beyond its bytes. */
export interface ChunkFacts {
  /** Where in a large tar member's data the chunk lies, when it lies wholly inside one. */
  place?: MemberPlace | undefined;
  /** Its tar layout, when it lies outside large members' data and within the archive's members. */
  layout?: ChunkLayout | undefined;
  /** Its unread runs (zeros in `data`, which is then always the chunker's own buffer). */
  unread: UnreadSegment[];
}

/** Where the chunks go. */
export interface ChunkSink {
  /**
   * Take chunk `index`; resolves when another chunk may follow (backpressure), rejects when the backup failed.
   * `owned`: the chunker assembled `data` itself, so its memory may be handed to another thread.
   */
  accept(index: number, data: Buffer, final: boolean, owned: boolean, facts: ChunkFacts): Promise<void>;
  /** Resolves when every accepted chunk is stored; rejects when one failed. */
  finish(): Promise<void>;
}

/**
 * Buffers at most one chunk (plus the last write). A chunk is passed on only once more bytes arrive, so the
 * chunk that ends the stream is always marked final; an empty stream is one empty final chunk. A tar stream is also
 * cut where its large members start and end (tar-boundaries.ts), so unchanged files are cut alike in every backup.
 */
export class StreamChunker extends Writable {
  readonly #chunkSize: number;
  readonly #sink: ChunkSink;
  #parts: Part[] = [];
  #buffered = 0;
  #next = 0;
  /** Stream bytes already passed on as chunks. */
  #offset = 0;
  readonly #boundaries: TarBoundaries;
  /** The writer gives its buffers away: a whole one taken as a chunk may be moved. */
  readonly #handsOver: boolean;
  /** Writes that must be a chunk on their own, whole (placeholders for a parent's chunk). */
  readonly #indivisible: (data: Buffer) => boolean;
  /** Writes that stand for unread file data. */
  readonly #unread: (data: Buffer) => UnreadSource | undefined;

  constructor(chunkSize: number, sink: ChunkSink, options: ChunkerOptions = {}) {
    super({ decodeStrings: true });
    this.#chunkSize = chunkSize;
    this.#sink = sink;
    this.#handsOver = options.handsOver ?? false;
    this.#indivisible = options.indivisible ?? (() => false);
    this.#unread = options.unread ?? (() => undefined);
    this.#boundaries = new TarBoundaries(Math.max(1, Math.floor(chunkSize / 4)));
  }

  override _write(data: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#boundaries.observe(data);
    const source = this.#unread(data);
    this.#parts.push(source === undefined ? { data } : { data, source, sourceOffset: 0 });
    this.#buffered += data.length;
    this.#passFullChunks().then(() => callback(), (error: unknown) => callback(asError(error)));
  }

  override _final(callback: (error?: Error | null) => void): void {
    let last: Taken;
    try {
      last = this.#take(this.#buffered);
    } catch (error) {
      callback(asError(error));
      return;
    }
    this.#sink
      .accept(this.#next++, last.data, true, last.owned, last.facts)
      .then(() => this.#sink.finish())
      .then(() => callback(), (error: unknown) => callback(asError(error)));
  }

  async #passFullChunks(): Promise<void> {
    for (let size = this.#nextCut(); size !== undefined; size = this.#nextCut()) {
      const chunk = this.#take(size);
      await this.#sink.accept(this.#next++, chunk.data, false, chunk.owned, chunk.facts);
    }
  }

  /** The size of the next chunk when bytes follow it: up to the next boundary, else a full chunk. */
  #nextCut(): number | undefined {
    const cut = this.#boundaries.cutBetween(this.#offset, this.#offset + Math.min(this.#buffered, this.#chunkSize + 1));
    if (cut !== undefined) return cut - this.#offset;
    // A header cut in two by this write may be a cut point: wait for its end (at most 512 bytes more) to know.
    const pending = this.#boundaries.pendingHeader();
    if (pending !== undefined && pending > this.#offset && pending <= this.#offset + this.#chunkSize) return undefined;
    return this.#buffered > this.#chunkSize ? this.#chunkSize : undefined;
  }

  /**
   * The first `count` buffered bytes as one Buffer, with what is known of them; later bytes stay buffered without
   * being copied. An indivisible write must be exactly the chunk: cutting it or joining it to other bytes throws.
   */
  #take(count: number): Taken {
    const place = this.#boundaries.placeOf(this.#offset, count);
    const layout = place === undefined ? this.#boundaries.layoutOf(this.#offset, count) : undefined;
    const { taken, unread } = this.#takeParts(count);
    this.#buffered -= count;
    this.#offset += count;
    const facts = { place, layout, unread };
    // One part is the caller's own memory (or a view into it), ours only when it was handed over whole; a
    // concatenation is a new buffer of ours, and the only one unread runs may later be read into.
    const [only] = taken;
    if (taken.length === 1 && only !== undefined && unread.length === 0) return { data: only, owned: this.#handsOver && isWhole(only), facts };
    return { data: Buffer.concat(taken, count), owned: true, facts };
  }

  /** The buffered writes (or their first pieces) that make the next `count` bytes, and where unread data lies in them. */
  #takeParts(count: number): { taken: Buffer[]; unread: UnreadSegment[] } {
    const taken: Buffer[] = [];
    const unread: UnreadSegment[] = [];
    let needed = count;
    for (let part = this.#parts[0]; needed > 0 && part !== undefined; part = this.#parts[0]) {
      const whole = part.data.length === count && taken.length === 0;
      if (!whole && this.#indivisible(part.data)) throw new RangeError(`a write standing for a whole chunk (${part.data.length} bytes) does not fall on the chunk boundaries`);
      const piece = part.data.length <= needed ? part.data : part.data.subarray(0, needed);
      const sourceOffset = part.sourceOffset ?? 0;
      if (part.source !== undefined) unread.push({ at: count - needed, length: piece.length, source: part.source, offset: sourceOffset });
      taken.push(piece);
      needed -= piece.length;
      if (piece.length === part.data.length) this.#parts.shift();
      else this.#parts[0] = { ...part, data: part.data.subarray(piece.length), sourceOffset: sourceOffset + piece.length };
    }
    return { taken, unread };
  }
}

/** How a chunker treats particular writes. */
export interface ChunkerOptions {
  /** The writer gives its buffers away: a whole one taken as a chunk may be moved. */
  handsOver?: boolean;
  /** Writes that must be a chunk on their own, whole (placeholders for a parent's chunk). */
  indivisible?: (data: Buffer) => boolean;
  /** Writes that stand for unread file data, with how to read it. */
  unread?: (data: Buffer) => UnreadSource | undefined;
}

/** A buffered write, and for unread file data where it reads from. */
interface Part {
  data: Buffer;
  source?: UnreadSource;
  sourceOffset?: number;
}

/** A chunk taken from the buffered writes. */
interface Taken {
  data: Buffer;
  owned: boolean;
  facts: ChunkFacts;
}

/** A buffer that spans all of its ArrayBuffer (not a view into a larger or pooled one). */
function isWhole(data: Buffer): boolean {
  return data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
