/**
 * Leader election among control-plane nodes: every node serves the API, exactly one runs the controllers. The lease
 * comes from the store (`Leases`: an etcd lease and a transaction, or a row of the embedded store); this file only
 * decides when to campaign, renew and stop acting, as client-go's leaderelection does.
 *
 * The rule that keeps two leaders from acting at once: the holder stops acting `durationMs - marginMs` after its
 * last successful renewal (measured from when the renewal was sent), so it has stopped before the lease can expire
 * and anyone else can acquire it. Every controller write also goes through a store view fenced by the acquisition,
 * so even a paused process that wakes up late cannot write after losing the lease.
 */
import { errorMessage, LostLeaseError } from "../errors/index.ts";
import type { HeldLease, Leases } from "../store/index.ts";
import type { Logger } from "../util/index.ts";

/** The lease the controllers are elected with. */
export const CONTROLLERS_LEASE = "holdfast-controllers";

/** How long a lease lasts, how often it is renewed, and how early the holder gives up acting. */
export interface ElectionTiming {
  /** Lease duration: a crashed leader is replaced within this (plus one retry interval). */
  durationMs: number;
  /** The holder renews this often. */
  renewIntervalMs: number;
  /** The holder stops acting this long before its lease could expire. */
  marginMs: number;
  /** A node that does not hold the lease tries again this often. */
  retryIntervalMs: number;
}

/**
 * Defaults (documented in docs/operations.md): 5 s lease, renewed every second, acting stops 1.5 s early; a node that
 * does not lead looks every 250 ms (one read), so it takes over within a quarter of a second of the lease's expiry.
 */
export const DEFAULT_ELECTION_TIMING: ElectionTiming = { durationMs: 5000, renewIntervalMs: 1000, marginMs: 1500, retryIntervalMs: 250 };

/** What a term of leadership does: started with the acquisition, stopped when it ends. */
export interface LeaderTerm {
  stop(): Promise<void>;
}

export interface LeaderElectionOptions {
  leases: Leases;
  /** The node name: the lease's holder. */
  holder: string;
  /** The lease name (default CONTROLLERS_LEASE). */
  name?: string;
  timing?: ElectionTiming;
  logger: Logger;
  /** Start acting for this acquisition (the controllers, over a store fenced by `lease`). */
  lead(lease: HeldLease): Promise<LeaderTerm>;
  /** The monotonic clock (performance.now by default). */
  now?: () => number;
}

/**
 * Campaigns for the lease, leads while it holds it, and campaigns again after losing it, until `stop()`.
 * `stop()` ends the term and releases the lease, so another node takes over at once.
 */
export class LeaderElection {
  readonly #options: LeaderElectionOptions;
  readonly #timing: ElectionTiming;
  readonly #name: string;
  readonly #now: () => number;
  #lease: HeldLease | undefined;
  #term: LeaderTerm | undefined;
  #stepping: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #deadline: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: LeaderElectionOptions) {
    this.#options = options;
    this.#timing = options.timing ?? DEFAULT_ELECTION_TIMING;
    this.#name = options.name ?? CONTROLLERS_LEASE;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Is this node acting as the leader right now? */
  get leading(): boolean {
    return this.#term !== undefined;
  }

  /** Begin campaigning (returns at once; the first attempt is made now). */
  start(): void {
    this.#schedule(0);
  }

  /** End the term (controllers stop) and release the lease. A renewal or campaign in flight is not waited for. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    const lease = this.#lease;
    await this.#stepDown("the server is stopping");
    if (lease !== undefined) await this.#release(lease);
  }

  async #release(lease: HeldLease): Promise<void> {
    await this.#options.leases.release(lease).catch((error: unknown) => {
      this.#options.logger.warn({ lease: this.#name, err: errorMessage(error) }, "could not release the controllers' lease; another node takes over when it expires");
    });
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      void this.#tick().finally(() => this.#schedule(this.#lease === undefined ? this.#timing.retryIntervalMs : this.#timing.renewIntervalMs));
    }, delayMs);
  }

  async #tick(): Promise<void> {
    if (this.#stopped) return;
    if (this.#lease === undefined) await this.#campaign();
    else await this.#renew(this.#lease);
  }

  async #campaign(): Promise<void> {
    const { leases, holder, logger } = this.#options;
    let lease: HeldLease | undefined;
    try {
      lease = await leases.tryAcquire(this.#name, holder, this.#timing.durationMs);
    } catch (error) {
      logger.debug({ lease: this.#name, err: errorMessage(error) }, "could not campaign for the controllers' lease; trying again");
      return;
    }
    if (lease === undefined) return;
    if (this.#stopped) {
      await this.#release(lease);
      return;
    }
    this.#held(lease);
    logger.info({ lease: this.#name, holder }, "this node leads: starting the controllers");
    const starting = this.#now();
    try {
      const term = await this.#options.lead(lease);
      if (this.#lease === lease) {
        this.#term = term;
        logger.info({ lease: this.#name, holder, startedInMs: Math.round(this.#now() - starting) }, "the controllers run");
      } else await term.stop();
    } catch (error) {
      logger.error({ err: errorMessage(error) }, "the controllers did not start; giving the lease up");
      await this.#stepDown("the controllers did not start");
      await this.#release(lease);
    }
  }

  async #renew(lease: HeldLease): Promise<void> {
    try {
      const renewed = await this.#options.leases.renew(lease);
      if (this.#lease === lease) this.#held(renewed);
    } catch (error) {
      if (error instanceof LostLeaseError) {
        await this.#stepDown("the lease was lost to another node");
        return;
      }
      this.#options.logger.warn({ lease: this.#name, err: errorMessage(error) }, "could not renew the controllers' lease; still trying");
    }
  }

  /** Hold `lease` and arm the deadline by which acting stops unless it is renewed again. */
  #held(lease: HeldLease): void {
    this.#lease = lease;
    clearTimeout(this.#deadline);
    const actUntil = lease.renewedAt + this.#timing.durationMs - this.#timing.marginMs;
    this.#deadline = setTimeout(() => void this.#stepDown("the lease was not renewed in time"), Math.max(0, actUntil - this.#now()));
  }

  /** Stop acting at once (the store view of the term is fenced anyway), then campaign again. */
  async #stepDown(why: string): Promise<void> {
    clearTimeout(this.#deadline);
    const wasHeld = this.#lease !== undefined;
    this.#lease = undefined;
    const term = this.#term;
    this.#term = undefined;
    if (wasHeld) this.#options.logger.warn({ lease: this.#name, why }, "this node no longer leads: stopping the controllers (the API keeps serving)");
    if (term !== undefined) {
      this.#stepping = term.stop().catch((error: unknown) => this.#options.logger.error({ err: errorMessage(error) }, "stopping the controllers failed"));
    }
    await this.#stepping;
  }
}
