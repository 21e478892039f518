/**
 * Leadership among control-plane nodes, built from the store's own primitives (etcd leases and transactions; a row
 * in the embedded store), never from consensus code of ours. A lease is visible as a `coordination.k8s.io/v1` Lease
 * object (holder, renew time, duration, transitions). Writes made through `Store.fenced(lease)` succeed only while
 * the lease is still held by that acquisition, checked atomically with each write, so a paused former leader cannot
 * write after losing it.
 */

/** One acquisition of a lease. */
export interface HeldLease {
  /** The Lease object's name (namespace `holdfast-system`). */
  readonly name: string;
  /** Who holds it: the node name. */
  readonly holder: string;
  /** Opaque and different at every acquisition (etcd: the key's create revision; sqlite: a fresh id). */
  readonly token: string;
  /** The lease duration. */
  readonly durationMs: number;
  /** When the holder last acquired or renewed it successfully, by the holder's monotonic clock (performance.now()). */
  readonly renewedAt: number;
}

/** What anyone can read of a lease. */
export interface LeaseRecord {
  name: string;
  holder: string;
  durationMs: number;
  acquireTime: string;
  renewTime: string;
  transitions: number;
  /** In how many ms it expires unless it is renewed, as this process judges it (read() returns only leases not yet expired). */
  expiresInMs?: number;
}

/** The lease primitive of a store backend. */
export interface Leases {
  /** Take lease `name` for `holder` when it is free (absent or expired); undefined when someone else holds it. */
  tryAcquire(name: string, holder: string, durationMs: number): Promise<HeldLease | undefined>;
  /** Renew a held lease; throws LostLeaseError when it is no longer held by this acquisition. */
  renew(lease: HeldLease): Promise<HeldLease>;
  /** Give it up at once (a clean shutdown), so another node takes over without waiting for expiry. */
  release(lease: HeldLease): Promise<void>;
  /** The current holder, for display; undefined when nobody holds it. */
  read(name: string): Promise<LeaseRecord | undefined>;
}
