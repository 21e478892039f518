/** The writer's bookkeeping: each stream's stored chunks, and the slots that bound chunks in flight. */
import type { Writable } from "node:stream";
import type { ChunkEntry, StreamEntry } from "./manifest.ts";
import type { UnreadSource } from "./stream-chunker.ts";
import type { StreamSummary, UnchangedTest } from "./types.ts";

/** How a stream's chunks are treated (from the writer's StreamOptions and the parent). */
export interface StreamSettings {
  attributes?: Readonly<Record<string, string>> | undefined;
  unchanged?: UnchangedTest | undefined;
  macPlaced?: boolean;
  recycle?: ((data: Buffer) => void) | undefined;
}

/** One stream of a backup being written. */
export class ChunkedStream {
  readonly name: string;
  readonly ordinal: number;
  /** What the method noted of the stream (kept in the manifest). */
  readonly attributes: Readonly<Record<string, string>> | undefined;
  /** Chunks of large members the method vouches unchanged since the parent (an incremental backup only). */
  readonly unchanged: UnchangedTest | undefined;
  /** Whether chunks of large tar members get a content MAC. */
  readonly macPlaced: boolean;
  /** Takes back a handed-over buffer the writer did not move (see StreamOptions.recycle). */
  readonly recycle: ((data: Buffer) => void) | undefined;
  state: "open" | "done" | "failed" = "open";
  readonly #chunks: ChunkEntry[] = [];
  /** Buffers the method wrote in place of the parent's chunks (ParentStream.placeholder). */
  readonly #placeholders = new WeakSet<Buffer>();
  /** Buffers the method wrote for file data it did not read (ParentStream.unread), with how to read it. */
  readonly #unread = new WeakMap<Buffer, UnreadSource>();
  /** Zeros the placeholders and unread data are views of (never written to: the chunker copies unread data). */
  #zeros = Buffer.alloc(0);
  readonly #notes: string[] = [];
  readonly #pending = new Set<Promise<void>>();
  #writable: Writable | undefined;

  constructor(name: string, ordinal: number, options: StreamSettings = {}) {
    this.name = name;
    this.ordinal = ordinal;
    this.attributes = options.attributes;
    this.unchanged = options.unchanged;
    this.macPlaced = options.macPlaced ?? true;
    this.recycle = options.recycle;
  }

  attach(writable: Writable): void {
    this.#writable = writable;
    writable.once("error", () => {
      if (this.state === "open") this.state = "failed";
    });
  }

  /** Keep track of a chunk being stored (its failure is reported by `settle`). */
  track(storing: Promise<void>): void {
    const tracked = storing.finally(() => this.#pending.delete(tracked));
    tracked.catch(() => undefined);
    this.#pending.add(tracked);
  }

  record(chunk: ChunkEntry): void {
    this.#chunks[chunk.index] = chunk;
  }

  /** Wait for every chunk in flight; the stream is done when all were stored. */
  async settle(): Promise<void> {
    const results = await Promise.allSettled([...this.#pending]);
    const failed = results.find((result) => result.status === "rejected");
    if (failed !== undefined) {
      this.state = "failed";
      throw failed.reason;
    }
    this.state = "done";
  }

  /** Stop a stream that is still being written, and wait for its chunks in flight. */
  async destroy(error: Error | undefined): Promise<void> {
    if (this.state === "open") {
      this.state = "failed";
      this.#writable?.destroy(error);
    }
    await Promise.allSettled([...this.#pending]);
  }

  entry(): StreamEntry {
    return {
      name: this.name,
      ordinal: this.ordinal,
      plaintextBytes: this.#chunks.reduce((total, chunk) => total + chunk.plaintextBytes, 0),
      storedBytes: this.#chunks.reduce((total, chunk) => total + chunk.storedBytes, 0),
      chunks: [...this.#chunks],
      ...(this.attributes === undefined ? {} : { attributes: { ...this.attributes } }),
    };
  }

  summary(): StreamSummary {
    const entry = this.entry();
    const notes = this.#notes.length === 0 ? {} : { notes: [...this.#notes] };
    return { name: entry.name, plaintextBytes: entry.plaintextBytes, storedBytes: entry.storedBytes, chunks: entry.chunks.length, ...notes };
  }

  /** `size` bytes standing for the parent's chunk (a new view each time, so that it is known by identity). */
  placeholder(size: number): Buffer {
    if (!Number.isInteger(size) || size <= 0) throw new RangeError("a placeholder needs a positive whole size");
    if (this.#zeros.length < size) this.#zeros = Buffer.alloc(size);
    const view = this.#zeros.subarray(0, size);
    this.#placeholders.add(view);
    return view;
  }

  /** `size` zero bytes standing for file data that `load` reads when it is needed (known by identity). */
  unread(size: number, load: (offset: number, target: Buffer) => Promise<void>): Buffer {
    if (!Number.isInteger(size) || size <= 0) throw new RangeError("unread data needs a positive whole size");
    if (this.#zeros.length < size) this.#zeros = Buffer.alloc(size);
    const view = this.#zeros.subarray(0, size);
    this.#unread.set(view, { load });
    return view;
  }

  /** How to read `data`, when it stands for unread file data this stream handed out. */
  unreadSource(data: Buffer): UnreadSource | undefined {
    return this.#unread.get(data);
  }

  /** Whether `data` is a placeholder this stream handed out. */
  isPlaceholder(data: Buffer): boolean {
    return this.#placeholders.has(data);
  }

  note(text: string): void {
    this.#notes.push(text);
  }

  /** What the method noted (ParentStream.note). */
  get notes(): readonly string[] {
    return this.#notes;
  }
}

/** A counting semaphore. */
export class Slots {
  #free: number;
  readonly #waiting: Array<() => void> = [];

  constructor(count: number) {
    this.#free = count;
  }

  async acquire(): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  release(): void {
    const next = this.#waiting.shift();
    if (next === undefined) this.#free++;
    else next();
  }
}
