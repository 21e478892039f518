/**
 * Which etcd members still answer. A member cut off by the network (packets dropped, not refused) leaves its
 * keep-alive connections silent: a watch on it would wait forever for events, and a request until its deadline. So
 * while work is open on a member (a watch stream or a request in flight), the member is asked for its status every
 * PROBE_INTERVAL_MS on a connection of its own; when the answer does not come within PROBE_TIMEOUT_MS, that work is
 * aborted with MemberUnreachableError, so watches resume on another member and requests fail over (as etcd's own
 * client does with gRPC keep-alives).
 */

/** Work on a member was aborted because the member stopped answering its health probe. */
export class MemberUnreachableError extends Error {
  override readonly name = "MemberUnreachableError";
}

/** How often a member with open work is probed, and how long its answer may take. */
export interface ProbeTiming {
  intervalMs: number;
  timeoutMs: number;
}

export const DEFAULT_PROBE_TIMING: ProbeTiming = { intervalMs: 1000, timeoutMs: 2000 };

/** Asks member `index` whether it answers; rejects when it does not (or `signal` aborts). */
export type MemberProbe = (index: number, signal: AbortSignal) => Promise<void>;

/** One piece of open work on a member: its signal aborts when the member stops answering. */
export interface TrackedWork {
  readonly signal: AbortSignal;
  /** The work ended: stop tracking it. */
  readonly done: () => void;
}

export class MemberHealth {
  readonly #probe: MemberProbe;
  readonly #timing: ProbeTiming;
  readonly #onUnreachable: (index: number) => void;
  /** Open work per member. */
  readonly #work = new Map<number, Set<AbortController>>();
  /** Members whose probe is in flight: one at a time per member. */
  readonly #probing = new Set<number>();
  #timer: NodeJS.Timeout | undefined;

  constructor(probe: MemberProbe, onUnreachable: (index: number) => void, timing: ProbeTiming = DEFAULT_PROBE_TIMING) {
    this.#probe = probe;
    this.#onUnreachable = onUnreachable;
    this.#timing = timing;
  }

  /** Track work on member `index` until `done()`. */
  track(index: number): TrackedWork {
    const controller = new AbortController();
    let open = this.#work.get(index);
    if (open === undefined) {
      open = new Set();
      this.#work.set(index, open);
    }
    open.add(controller);
    this.#start();
    return {
      signal: controller.signal,
      done: () => {
        open.delete(controller);
        if (open.size === 0 && this.#work.get(index) === open) this.#work.delete(index);
      },
    };
  }

  /** Stop probing and abort nothing more. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#work.clear();
  }

  #start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.#round(), this.#timing.intervalMs);
    this.#timer.unref();
  }

  #round(): void {
    if (this.#work.size === 0) {
      this.stop();
      return;
    }
    for (const index of this.#work.keys()) {
      if (this.#probing.has(index)) continue;
      this.#probing.add(index);
      void this.#check(index).finally(() => this.#probing.delete(index));
    }
  }

  async #check(index: number): Promise<void> {
    try {
      await this.#probe(index, AbortSignal.timeout(this.#timing.timeoutMs));
    } catch {
      this.#abortAll(index);
    }
  }

  #abortAll(index: number): void {
    const open = this.#work.get(index);
    this.#work.delete(index);
    this.#onUnreachable(index);
    if (open === undefined) return;
    const reason = new MemberUnreachableError(`the etcd member did not answer its health probe within ${this.#timing.timeoutMs} ms`);
    for (const controller of open) controller.abort(reason);
  }
}
