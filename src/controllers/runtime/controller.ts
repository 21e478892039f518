/** A level-triggered controller: watches enqueue keys, workers reconcile them one key at a time. */
import { ConflictError, GoneError, errorMessage } from "../../errors/index.ts";
import type { Store, Watch } from "../../store/index.ts";
import type { Logger } from "../../util/index.ts";
import { keyOf, type Reconciler, type WatchSource } from "./types.ts";
import { WorkQueue, type BackoffPolicy, type QueueObserver } from "./work-queue.ts";

const RELIST_RETRY_MS = 1000;

export interface ControllerOptions {
  name: string;
  store: Store;
  reconciler: Reconciler;
  /** The primary kind first; its keys are the reconcile keys. */
  watches: readonly WatchSource[];
  logger: Logger;
  workers?: number;
  backoff?: BackoffPolicy;
  /** Reconcile every known key again at this interval (a safety net for missed signals). */
  resyncMs?: number;
  /** Release what the reconciler holds (listeners...) once the workers have stopped. */
  onStop?: () => Promise<void>;
}

/** What a controller reports, for metrics: its queue's waits and retries, each reconcile's time and failures. */
export interface ControllerObserver extends QueueObserver {
  reconciled(ms: number, failed: boolean): void;
}

export class Controller {
  readonly name: string;
  readonly #options: ControllerOptions;
  readonly #queue: WorkQueue;
  readonly #watches: Watch[] = [];
  /** Keys each source has enqueued since its last list, so a relist can also reconcile what was deleted meanwhile. */
  readonly #keys = new Map<WatchSource, Set<string>>();
  readonly #workers: Promise<void>[] = [];
  #resync: NodeJS.Timeout | undefined;
  #stopped = false;
  #observer: ControllerObserver | undefined;

  constructor(options: ControllerOptions) {
    this.name = options.name;
    this.#options = options;
    this.#queue = new WorkQueue(options.backoff);
  }

  /** Report to `observer` from now on (metrics). */
  observe(observer: ControllerObserver): void {
    this.#observer = observer;
    this.#queue.observer = observer;
  }

  /** Keys waiting in the queue. */
  get depth(): number {
    return this.#queue.length;
  }

  /** Enqueue a key from outside (e.g. a process-exit notification). */
  enqueue(key: string): void {
    this.#queue.add(key);
  }

  /** List every watched kind, enqueue what exists, then follow changes; start the workers. */
  async start(): Promise<void> {
    await Promise.all(this.#options.watches.map((source) => this.#follow(source)));
    const resyncMs = this.#options.resyncMs;
    if (resyncMs !== undefined) {
      this.#resync = setInterval(() => void this.#enqueueAll(this.#options.watches[0]), resyncMs);
      this.#resync.unref();
    }
    for (let i = 0; i < (this.#options.workers ?? 2); i++) this.#workers.push(this.#work());
  }

  /** Stop watching and wait for reconciles in flight to finish. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#resync) clearInterval(this.#resync);
    for (const watch of this.#watches.splice(0)) watch.stop();
    this.#queue.shutDown();
    await Promise.all(this.#workers);
    await this.#options.onStop?.();
  }

  async #follow(source: WatchSource): Promise<void> {
    const list = await this.#options.store.list(source.kind);
    const before = this.#keys.get(source) ?? new Set<string>();
    this.#keys.set(source, new Set());
    for (const object of list.items) this.#enqueueFor(source, object);
    // Objects deleted while no watch ran (a relist after 410 Gone) are reconciled too: they are simply gone now.
    const now = this.#keys.get(source) ?? new Set<string>();
    for (const key of before) if (!now.has(key)) this.#queue.add(key);
    try {
      const watch = this.#options.store.watch(
        { kind: source.kind, resourceVersion: list.resourceVersion },
        (event) => this.#enqueueFor(source, event.object),
        (error) => this.#relist(source, watch, error),
      );
      this.#watches.push(watch);
    } catch (error) {
      if (!(error instanceof GoneError)) throw error;
      await this.#follow(source);
    }
  }

  /** A watch ended by itself (410 Gone after a compaction): list again, enqueue everything, watch from there. */
  #relist(source: WatchSource, ended: Watch, error: Error): void {
    const index = this.#watches.indexOf(ended);
    if (index >= 0) this.#watches.splice(index, 1);
    if (this.#stopped) return;
    this.#options.logger.info({ controller: this.name, kind: source.kind, err: errorMessage(error) }, "watch ended; listing again");
    this.#follow(source).catch((failure: unknown) => {
      this.#options.logger.warn({ controller: this.name, kind: source.kind, err: errorMessage(failure) }, "listing again failed; retrying");
      setTimeout(() => this.#relist(source, ended, error), RELIST_RETRY_MS).unref();
    });
  }

  async #enqueueAll(source: WatchSource | undefined): Promise<void> {
    if (!source || this.#stopped) return;
    const list = await this.#options.store.list(source.kind);
    for (const object of list.items) this.#enqueueFor(source, object);
  }

  #enqueueFor(source: WatchSource, object: Parameters<typeof keyOf>[0]): void {
    const keys = source.keysFor ? source.keysFor(object) : [keyOf(object)];
    const known = this.#keys.get(source);
    for (const key of keys) {
      known?.add(key);
      this.#queue.add(key);
    }
  }

  async #work(): Promise<void> {
    for (;;) {
      const key = await this.#queue.get();
      if (key === undefined) return;
      await this.#reconcileOne(key);
      this.#queue.done(key);
    }
  }

  async #reconcileOne(key: string): Promise<void> {
    const log = this.#options.logger;
    const started = performance.now();
    try {
      const result = await this.#options.reconciler.reconcile(key);
      this.#observer?.reconciled(performance.now() - started, false);
      this.#queue.forget(key);
      if (result?.requeueAfterMs !== undefined) this.#queue.addAfter(key, result.requeueAfterMs);
    } catch (error) {
      if (this.#stopped) return;
      this.#observer?.reconciled(performance.now() - started, true);
      const delay = this.#queue.addRateLimited(key);
      // A conflict only means another writer was first; the retry reads the new version.
      const level = error instanceof ConflictError ? "debug" : "warn";
      log[level]({ controller: this.name, key, retryInMs: delay, failures: this.#queue.failures(key), err: errorMessage(error) }, "reconcile failed");
    }
  }
}
