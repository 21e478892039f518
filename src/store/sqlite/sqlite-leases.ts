/**
 * Leases in the embedded store: the Lease object is a row like any other, and each acquisition creates it anew, so
 * its uid is the acquisition's token. Expiry is judged by the wall clock of the one machine the store lives on.
 */
import { randomUUID } from "node:crypto";
import { now, type Resource } from "../../api/index.ts";
import { LostLeaseError } from "../../errors/index.ts";
import { LEASE_NAMESPACE, leaseObject, leaseRecordOf, leaseSeconds, type LeaseSpec } from "../lease-object.ts";
import type { HeldLease, LeaseRecord, Leases } from "../leases.ts";
import { prepareCreate, type ObjectKey } from "../object-rules.ts";
import type { StorageCodec } from "../types.ts";
import type { StoreTables } from "./tables.ts";
import { loadObject, type Writer } from "./writer.ts";

/** Runs work in one write transaction of the store and publishes its changes (not `durable`: see GroupCommit.submit). */
export type WriteTransaction = <T>(work: (writer: Writer) => T, options?: { durable: boolean }) => Promise<T>;

interface Transitions {
  holder: string;
  transitions: number;
}

/** The Leases primitive on the embedded store. */
export class SqliteLeases implements Leases {
  private readonly write: WriteTransaction;
  private readonly tables: StoreTables;
  private readonly codec: StorageCodec;

  constructor(write: WriteTransaction, tables: StoreTables, codec: StorageCodec) {
    this.write = write;
    this.tables = tables;
    this.codec = codec;
  }

  async tryAcquire(name: string, holder: string, durationMs: number): Promise<HeldLease | undefined> {
    const started = performance.now();
    const token = await this.write((writer) => {
      const existing = loadObject(this.tables, this.codec, leaseKey(name));
      // One server process runs per embedded store (the home's single-server guard), so a lease this holder still
      // holds was left by an earlier run of this same node (a crash): it is taken over at once, not after expiry.
      if (existing !== undefined && !expired(existing) && holderOf(existing) !== holder) return undefined;
      const previous = this.transitions(name);
      const transitions = previous === undefined ? 0 : previous.transitions + (previous.holder === holder ? 0 : 1);
      if (existing !== undefined) writer.remove(existing);
      const time = now();
      const spec: LeaseSpec = { holderIdentity: holder, leaseDurationSeconds: leaseSeconds(durationMs), acquireTime: time, renewTime: time, leaseTransitions: transitions };
      const created = writer.put("ADDED", prepareCreate(leaseObject(name, spec), randomUUID(), time));
      this.tables.setMeta(`lease/${name}`, JSON.stringify({ holder, transitions } satisfies Transitions));
      return created.metadata.uid;
    });
    return token === undefined ? undefined : { name, holder, token, durationMs, renewedAt: started };
  }

  /**
   * A renewal is committed without waiting for the disk (it survives a crash of the process, not a power cut): renewals
   * come every second, and each fsync blocked the event loop, so every API request, once a second. Losing the last
   * renewals to a power cut is harmless here: every holder on this machine stopped with it, and one server process
   * runs per embedded store, which takes over its own lease at once when it starts again (`tryAcquire`). Acquiring and
   * releasing stay durable.
   */
  async renew(lease: HeldLease): Promise<HeldLease> {
    const started = performance.now();
    await this.write(
      (writer) => {
        const existing = checkFence(this.tables, this.codec, lease);
        return writer.put("MODIFIED", { ...existing, spec: { ...(existing.spec as LeaseSpec), renewTime: now() } }, existing);
      },
      { durable: false },
    );
    return { ...lease, renewedAt: started };
  }

  async release(lease: HeldLease): Promise<void> {
    await this.write((writer) => {
      const existing = loadObject(this.tables, this.codec, leaseKey(lease.name));
      if (existing?.metadata.uid === lease.token) writer.remove(existing);
    });
  }

  async read(name: string): Promise<LeaseRecord | undefined> {
    await Promise.resolve();
    const existing = loadObject(this.tables, this.codec, leaseKey(name));
    if (existing === undefined || expired(existing)) return undefined;
    const record = leaseRecordOf(existing);
    return { ...record, expiresInMs: Date.parse(record.renewTime) + record.durationMs - Date.now() };
  }

  private transitions(name: string): Transitions | undefined {
    const value = this.tables.meta(`lease/${name}`);
    return value === undefined ? undefined : (JSON.parse(value) as Transitions);
  }
}

/** Inside a write transaction: the lease must still be this acquisition's, or nothing is written. */
export function checkFence(tables: StoreTables, codec: StorageCodec, lease: HeldLease): Resource {
  const existing = loadObject(tables, codec, leaseKey(lease.name));
  if (existing?.metadata.uid !== lease.token) {
    throw new LostLeaseError(`this node no longer holds the lease "${lease.name}" (it expired or another node took it over); nothing was written`);
  }
  return existing;
}

function leaseKey(name: string): ObjectKey {
  return { kind: "Lease", namespace: LEASE_NAMESPACE, name };
}

function expired(object: Resource): boolean {
  const record = leaseRecordOf(object);
  return Date.parse(record.renewTime) + record.durationMs <= Date.now();
}

function holderOf(object: Resource): string {
  return leaseRecordOf(object).holder;
}
