/**
 * A pool of worker threads that compress, encrypt and hash chunks (and check, decrypt and decompress them when
 * reading), so that a backup uses more than one core. Chunk memory is transferred to and from the workers, never
 * copied. Idle workers do not keep the process alive; `close` ends them. Callers bound their own chunks in flight.
 * With a caller's lane, a task that finds every worker busy runs on the pool's own thread instead of waiting: for a
 * caller whose thread is mostly idle (an incremental backup's process, ADR 0044), one more core at work without one
 * more thread's isolate and memory.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { InvalidError, UnavailableError } from "../errors/index.ts";
import { performChunkTask } from "./chunk-perform.ts";
import type { ChunkTask, ChunkTaskResult } from "./chunk-task.ts";

/** The most worker threads one backup or restore may use (memory: each holds one chunk and its encoded copy). */
export const MAX_PROCESS_MAX = 16;

/** Worker threads by default: the cores this process may use, at most 4 (pgBackRest's default is 1). */
export function defaultProcessMax(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

/** Throws unless `value` is a usable number of worker threads. */
export function assertProcessMax(value: number): void {
  if (!Number.isInteger(value) || value < 1 || value > MAX_PROCESS_MAX) {
    throw new InvalidError(`process-max must be a whole number from 1 to ${MAX_PROCESS_MAX}`);
  }
}

interface PendingTask {
  task: ChunkTask;
  transfer: ArrayBuffer[];
  resolve: (result: ChunkTaskResult) => void;
  reject: (error: Error) => void;
}

interface PoolWorker {
  worker: Worker;
  current: PendingTask | undefined;
}

/** Worker threads running chunk tasks, at most `size` at once. */
export class ChunkPool {
  readonly size: number;
  /** This thread also runs a task when every worker is busy. */
  readonly callerLane: boolean;
  #callerBusy = false;
  #ranHere = 0;
  readonly #workers: PoolWorker[] = [];
  readonly #queue: PendingTask[] = [];
  #closed = false;

  /** `size` worker threads; with `callerLane`, this thread also runs one task at a time when they are all busy. */
  constructor(size: number, options: { callerLane?: boolean } = {}) {
    assertProcessMax(size);
    this.size = size;
    this.callerLane = options.callerLane ?? false;
  }

  /** Run one task; `transfer` is handed to the worker (detached here). */
  run(task: ChunkTask, transfer: ArrayBuffer[]): Promise<ChunkTaskResult> {
    if (this.#closed) return Promise.reject(new UnavailableError("the chunk pool is closed"));
    return new Promise((resolve, reject) => {
      this.#queue.push({ task, transfer, resolve, reject });
      this.#dispatch();
    });
  }

  /** Worker threads started (and not lost). */
  get threads(): number {
    return this.#workers.length;
  }

  /** Tasks run on the pool's own thread (its caller's lane). */
  get ranHere(): number {
    return this.#ranHere;
  }

  /**
   * Start every worker thread now (each loads its modules: tens of milliseconds, 0.1–0.2 s under load) rather than with
   * the first chunk: a process started ahead of its job has them ready. Idle, they keep nothing alive.
   */
  warm(): void {
    while (!this.#closed && this.#workers.length < this.size) this.#spawn()?.worker.unref();
  }

  /** End the workers; queued tasks fail. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const pending of this.#queue.splice(0)) pending.reject(new UnavailableError("the chunk pool was closed"));
    await Promise.allSettled(this.#workers.splice(0).map((entry) => entry.worker.terminate()));
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      const idle = this.#workers.find((entry) => entry.current === undefined) ?? this.#spawn();
      if (idle === undefined) return this.#runHere();
      const next = this.#queue.shift();
      if (next === undefined) return;
      idle.current = next;
      idle.worker.ref();
      idle.worker.postMessage(next.task, next.transfer);
    }
  }

  /**
   * The next queued task on this thread, after the current turn of the event loop: its memory is moved into a clone
   * of the task, as a worker would receive it, so that the caller's keys and chunk are never wiped in its hands.
   */
  #runHere(): void {
    if (!this.callerLane || this.#callerBusy) return;
    const next = this.#queue.shift();
    if (next === undefined) return;
    this.#callerBusy = true;
    setImmediate(() => {
      this.#callerBusy = false;
      if (this.#closed) return next.reject(new UnavailableError("the chunk pool was closed"));
      this.#ranHere++;
      try {
        next.resolve(performChunkTask(structuredClone(next.task, { transfer: next.transfer })).result);
      } catch (error) {
        next.reject(error instanceof Error ? error : new Error(String(error)));
      }
      this.#dispatch();
    });
  }

  #spawn(): PoolWorker | undefined {
    if (this.#workers.length >= this.size) return undefined;
    const entry: PoolWorker = { worker: new Worker(new URL("./chunk-worker.ts", import.meta.url)), current: undefined };
    entry.worker.on("message", (result: ChunkTaskResult) => this.#settle(entry, (task) => task.resolve(result)));
    entry.worker.on("error", (error: Error) => this.#lose(entry, error));
    entry.worker.on("exit", (code) => this.#lose(entry, new UnavailableError(`a chunk worker thread exited (code ${code})`)));
    this.#workers.push(entry);
    return entry;
  }

  #settle(entry: PoolWorker, finish: (task: PendingTask) => void): void {
    const task = entry.current;
    entry.current = undefined;
    entry.worker.unref();
    if (task !== undefined) finish(task);
    this.#dispatch();
  }

  /** A worker that died fails its task and is replaced on demand. */
  #lose(entry: PoolWorker, error: Error): void {
    const index = this.#workers.indexOf(entry);
    if (index >= 0) this.#workers.splice(index, 1);
    const task = entry.current;
    entry.current = undefined;
    task?.reject(error);
    if (!this.#closed) this.#dispatch();
  }
}
