/** A Writable that cuts what is written into fixed-size chunks and knows which chunk is the last. */
import { Writable } from "node:stream";

/** Where the chunks go. */
export interface ChunkSink {
  /** Take chunk `index`; resolves when another chunk may follow (backpressure), rejects when the backup failed. */
  accept(index: number, data: Buffer, final: boolean): Promise<void>;
  /** Resolves when every accepted chunk is stored; rejects when one failed. */
  finish(): Promise<void>;
}

/**
 * Buffers at most one chunk (plus the last write). A full chunk is passed on only once more bytes arrive, so the
 * chunk that ends the stream is always marked final; an empty stream is one empty final chunk.
 */
export class StreamChunker extends Writable {
  readonly #chunkSize: number;
  readonly #sink: ChunkSink;
  #parts: Buffer[] = [];
  #buffered = 0;
  #next = 0;

  constructor(chunkSize: number, sink: ChunkSink) {
    super({ decodeStrings: true });
    this.#chunkSize = chunkSize;
    this.#sink = sink;
  }

  override _write(data: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#parts.push(data);
    this.#buffered += data.length;
    this.#passFullChunks().then(() => callback(), (error: unknown) => callback(asError(error)));
  }

  override _final(callback: (error?: Error | null) => void): void {
    const last = this.#take(this.#buffered);
    this.#sink
      .accept(this.#next++, last, true)
      .then(() => this.#sink.finish())
      .then(() => callback(), (error: unknown) => callback(asError(error)));
  }

  async #passFullChunks(): Promise<void> {
    while (this.#buffered > this.#chunkSize) {
      await this.#sink.accept(this.#next++, this.#take(this.#chunkSize), false);
    }
  }

  /** The first `count` buffered bytes as one Buffer; later bytes stay buffered without being copied. */
  #take(count: number): Buffer {
    const taken: Buffer[] = [];
    let needed = count;
    while (needed > 0) {
      const part = this.#parts[0];
      if (part === undefined) break;
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
    return taken.length === 1 && taken[0] !== undefined ? taken[0] : Buffer.concat(taken, count);
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
