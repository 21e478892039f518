/**
 * Primary leases (ADR 0029), Patroni's rule: the primary of a component that can fail over runs only while its node
 * agent holds the component's lease in the store and renews it. A primary is started and a replica promoted only
 * once the lease is held; when renewals stop succeeding (the host is cut off from the store, or the store has no
 * quorum), the agent fences the primary before the lease can expire, so the ha controller elsewhere may promote
 * another instance as soon as the store says the lease is free.
 */
import { primaryLeaseHolder, primaryLeaseOf, type Instance } from "../api/index.ts";
import { errorMessage, LostLeaseError } from "../errors/index.ts";
import type { HeldLease, Leases } from "../store/index.ts";
import type { Logger } from "../util/index.ts";

/** What holding a lease for an instance gave. */
export type LeaseOutcome = { held: true; lease: HeldLease } | { held: false; holder: string | undefined };

interface Held {
  lease: HeldLease;
  renewTimer: NodeJS.Timeout;
  deadline: NodeJS.Timeout;
  renewing: boolean;
}

export interface PrimaryLeasesOptions {
  leases: Leases;
  nodeName: string;
  logger?: Logger;
  /** Fence the instance now (its lease is about to expire or is gone): must not need the store. */
  onLost(instanceKey: string, why: string): void;
  /** The monotonic clock (performance.now by default). */
  now?: () => number;
}

/** The holder stops acting this share of the lease duration before it could expire (at least this many ms). */
const MARGIN_SHARE = 0.3;
const MIN_MARGIN_MS = 300;

export class PrimaryLeases {
  readonly #o: PrimaryLeasesOptions;
  readonly #now: () => number;
  /** Per instance key (namespace/name). */
  readonly #held = new Map<string, Held>();
  #stopped = false;

  constructor(options: PrimaryLeasesOptions) {
    this.#o = options;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Hold the primary lease for `instance` (acquire it unless held and still safe to act on); renewed until released. */
  async hold(instance: Instance, durationMs: number): Promise<LeaseOutcome> {
    const key = keyOf(instance);
    const current = this.#held.get(key);
    if (current !== undefined && this.#acting(current.lease)) return { held: true, lease: current.lease };
    if (current !== undefined) this.#drop(key);
    const name = primaryLeaseOf(instance);
    const lease = await this.#o.leases.tryAcquire(name, primaryLeaseHolder(this.#o.nodeName, instance), durationMs);
    if (lease === undefined) return { held: false, holder: (await this.#o.leases.read(name).catch(() => undefined))?.holder };
    if (this.#stopped) return { held: false, holder: undefined };
    this.#keep(key, lease);
    return { held: true, lease };
  }

  /** Does this agent hold the lease for `instance` now, with time left to act on it? */
  holds(instance: Instance): boolean {
    const held = this.#held.get(keyOf(instance));
    return held !== undefined && this.#acting(held.lease);
  }

  /** Give the lease up (the primary stopped, was fenced or is gone), so another instance is promoted without waiting. */
  async release(instance: Instance): Promise<void> {
    const key = keyOf(instance);
    const held = this.#held.get(key);
    if (held === undefined) return;
    this.#drop(key);
    await this.#o.leases.release(held.lease).catch((error: unknown) => this.#o.logger?.warn(`cannot release the primary lease of ${key}: ${errorMessage(error)}; it expires by itself`));
  }

  /**
   * Stop renewing without releasing (the server shuts down, its databases keep running): the next run of this node
   * takes its leases over at once; if none comes, they expire and the ha controller fails over.
   */
  stop(): void {
    this.#stopped = true;
    for (const key of [...this.#held.keys()]) this.#drop(key);
  }

  #acting(lease: HeldLease): boolean {
    return this.#now() < actingUntil(lease);
  }

  #keep(key: string, lease: HeldLease): void {
    const interval = Math.max(100, Math.floor(lease.durationMs / 4));
    const held: Held = { lease, renewing: false, renewTimer: setInterval(() => void this.#renew(key), interval), deadline: this.#arm(key, lease) };
    held.renewTimer.unref();
    this.#held.set(key, held);
  }

  /** The fence that fires unless a renewal succeeds in time: renewals that hang (a store cut off) do not delay it. */
  #arm(key: string, lease: HeldLease): NodeJS.Timeout {
    const timer = setTimeout(() => this.#lose(key, `the primary lease "${lease.name}" was not renewed in time`), Math.max(0, actingUntil(lease) - this.#now()));
    timer.unref();
    return timer;
  }

  async #renew(key: string): Promise<void> {
    const held = this.#held.get(key);
    if (held === undefined || held.renewing) return;
    held.renewing = true;
    try {
      const renewed = await this.#o.leases.renew(held.lease);
      if (this.#held.get(key) !== held) return;
      clearTimeout(held.deadline);
      held.lease = renewed;
      held.deadline = this.#arm(key, renewed);
    } catch (error) {
      if (error instanceof LostLeaseError) this.#lose(key, error.message);
      // Anything else (the store does not answer) is tried again; the deadline fences if it lasts.
    } finally {
      held.renewing = false;
    }
  }

  #lose(key: string, why: string): void {
    if (!this.#held.has(key)) return;
    this.#drop(key);
    this.#o.logger?.warn(`${key}: ${why}; fencing the primary`);
    this.#o.onLost(key, why);
  }

  #drop(key: string): void {
    const held = this.#held.get(key);
    if (held === undefined) return;
    clearInterval(held.renewTimer);
    clearTimeout(held.deadline);
    this.#held.delete(key);
  }
}

/** Until when (monotonic ms) the holder may act on `lease`: well before it could expire. */
function actingUntil(lease: HeldLease): number {
  return lease.renewedAt + lease.durationMs - Math.max(MIN_MARGIN_MS, lease.durationMs * MARGIN_SHARE);
}

function keyOf(instance: Instance): string {
  return `${instance.metadata.namespace ?? "default"}/${instance.metadata.name}`;
}
