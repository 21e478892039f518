/** A Writable that cuts what is written into chunks of at most a fixed size and knows which chunk is the last. */
import { Writable } from "node:stream";
import { TarBoundaries, type MemberPlace } from "./tar-boundaries.ts";

/** Where the chunks go. */
export interface ChunkSink {
  /**
   * Take chunk `index`; resolves when another chunk may follow (backpressure), rejects when the backup failed.
   * `owned`: the chunker assembled `data` itself, so its memory may be handed to another thread. `place`: where
   * in a large tar member's data the chunk lies, when it lies wholly inside one.
   */
  accept(index: number, data: Buffer, final: boolean, owned: boolean, place?: MemberPlace): Promise<void>;
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
  #parts: Buffer[] = [];
  #buffered = 0;
  #next = 0;
  /** Stream bytes already passed on as chunks. */
  #offset = 0;
  readonly #boundaries: TarBoundaries;
  /** The writer gives its buffers away: a whole one taken as a chunk may be moved. */
  readonly #handsOver: boolean;
  /** Writes that must be a chunk on their own, whole (placeholders for a parent's chunk). */
  readonly #indivisible: (data: Buffer) => boolean;

  constructor(chunkSize: number, sink: ChunkSink, options: { handsOver?: boolean; indivisible?: (data: Buffer) => boolean } = {}) {
    super({ decodeStrings: true });
    this.#chunkSize = chunkSize;
    this.#sink = sink;
    this.#handsOver = options.handsOver ?? false;
    this.#indivisible = options.indivisible ?? (() => false);
    this.#boundaries = new TarBoundaries(Math.max(1, Math.floor(chunkSize / 4)));
  }

  override _write(data: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#boundaries.observe(data);
    this.#parts.push(data);
    this.#buffered += data.length;
    this.#passFullChunks().then(() => callback(), (error: unknown) => callback(asError(error)));
  }

  override _final(callback: (error?: Error | null) => void): void {
    const place = this.#boundaries.placeOf(this.#offset, this.#buffered);
    let last: { data: Buffer; owned: boolean };
    try {
      last = this.#take(this.#buffered);
    } catch (error) {
      callback(asError(error));
      return;
    }
    this.#sink
      .accept(this.#next++, last.data, true, last.owned, place)
      .then(() => this.#sink.finish())
      .then(() => callback(), (error: unknown) => callback(asError(error)));
  }

  async #passFullChunks(): Promise<void> {
    for (let size = this.#nextCut(); size !== undefined; size = this.#nextCut()) {
      const place = this.#boundaries.placeOf(this.#offset, size);
      const chunk = this.#take(size);
      await this.#sink.accept(this.#next++, chunk.data, false, chunk.owned, place);
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
   * The first `count` buffered bytes as one Buffer; later bytes stay buffered without being copied. An indivisible
   * write must be exactly the chunk: cutting it or joining it to other bytes throws.
   */
  #take(count: number): { data: Buffer; owned: boolean } {
    const taken: Buffer[] = [];
    let needed = count;
    while (needed > 0) {
      const part = this.#parts[0];
      if (part === undefined) break;
      const whole = part.length === count && taken.length === 0;
      if (!whole && this.#indivisible(part)) throw new RangeError(`a write standing for a whole chunk (${part.length} bytes) does not fall on the chunk boundaries`);
      if (part.length <= needed) {
        taken.push(part);
        this.#parts.shift();
        needed -= part.length;
      } else {
        taken.push(part.subarray(0, needed));
        this.#parts[0] = part.subarray(needed);
        needed = 0;
      }
    }
    this.#buffered -= count;
    this.#offset += count;
    // One part is the caller's own memory (or a view into it), ours only when it was handed over whole; a
    // concatenation is a new buffer of ours.
    const [only] = taken;
    if (taken.length === 1 && only !== undefined) return { data: only, owned: this.#handsOver && isWhole(only) };
    return { data: Buffer.concat(taken, count), owned: true };
  }
}

/** A buffer that spans all of its ArrayBuffer (not a view into a larger or pooled one). */
function isWhole(data: Buffer): boolean {
  return data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
