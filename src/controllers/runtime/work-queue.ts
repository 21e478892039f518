/**
 * A work queue with client-go's guarantees: a key waiting in the queue is held once however often it is
 * added; a key being processed is never handed to a second worker, and a change that arrives meanwhile
 * re-queues it after the current pass; failures back off exponentially with jitter.
 */

/** Backoff settings: delay = min(max, base * 2^failures), then full jitter in [delay/2, delay]. */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 250, maxMs: 60_000 };

/** The delay before retry number `failures` (0-based), with jitter drawn from `random` in [0, 1). */
export function backoffDelay(failures: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const exponential = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(failures, 30));
  return Math.round(exponential / 2 + (exponential / 2) * random());
}

/** What a work queue and its controller report, for metrics: set with Controller.observe. */
export interface QueueObserver {
  /** A key waited this long between being queued and a worker taking it. */
  waited(ms: number): void;
  /** A failed key was queued again after its backoff. */
  retried(): void;
}

export class WorkQueue {
  readonly #queue: string[] = [];
  /** When each waiting key was queued, for QueueObserver.waited. */
  readonly #queuedAt = new Map<string, number>();
  observer: QueueObserver | undefined;
  readonly #queued = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #dirty = new Set<string>();
  readonly #timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  readonly #failures = new Map<string, number>();
  readonly #waiters: (() => void)[] = [];
  readonly #policy: BackoffPolicy;
  #shutDown = false;

  constructor(policy: BackoffPolicy = DEFAULT_BACKOFF) {
    this.#policy = policy;
  }

  /** Queue a key now. */
  add(key: string): void {
    if (this.#shutDown) return;
    if (this.#processing.has(key)) {
      this.#dirty.add(key);
      return;
    }
    if (this.#queued.has(key)) return;
    this.#queued.add(key);
    this.#queue.push(key);
    if (this.observer) this.#queuedAt.set(key, performance.now());
    this.#waiters.shift()?.();
  }

  /** Queue a key after a delay; an earlier pending delay for the same key wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.#shutDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const at = Date.now() + delayMs;
    const pending = this.#timers.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.#timers.set(key, { at, timer });
  }

  /** Queue a key after its backoff delay, counting one more failure. */
  addRateLimited(key: string): number {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    this.observer?.retried();
    const delay = backoffDelay(failures, this.#policy);
    this.addAfter(key, delay);
    return delay;
  }

  /** Forget a key's failures (after a successful pass). */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  /** How many times the key has failed in a row. */
  failures(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /** Wait for the next key; undefined once the queue is shut down. */
  async get(): Promise<string | undefined> {
    while (this.#queue.length === 0) {
      if (this.#shutDown) return undefined;
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    const key = this.#queue.shift();
    if (key === undefined) return undefined;
    this.#queued.delete(key);
    this.#processing.add(key);
    const queuedAt = this.#queuedAt.get(key);
    if (queuedAt !== undefined) {
      this.#queuedAt.delete(key);
      this.observer?.waited(performance.now() - queuedAt);
    }
    return key;
  }

  /** Mark a key's pass finished; a change seen during the pass queues it again. */
  done(key: string): void {
    this.#processing.delete(key);
    if (this.#dirty.delete(key)) this.add(key);
  }

  /** Number of keys waiting. */
  get length(): number {
    return this.#queue.length;
  }

  /** Stop handing out keys and cancel delayed adds. */
  shutDown(): void {
    this.#shutDown = true;
    for (const { timer } of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    for (const wake of this.#waiters.splice(0)) wake();
  }
}
