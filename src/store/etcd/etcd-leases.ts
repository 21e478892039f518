/**
 * Leases on etcd. Each acquisition attaches the lease key to an etcd lease of its own, whose ID is its token: renewals
 * and fenced writes compare it in their own txn. Taking a lease is one txn, "the key is absent" or "the key is as I
 * read it" (the same holder, a node after a restart, takes its own lease over at once; anyone takes an expired one):
 * nobody ever reads the key absent in between, so a takeover never looks like a free lease.
 *
 * When a lease has expired is decided by whoever wants it, as client-go's leader election does, not by etcd's lease
 * TTL: etcd extends every TTL by a full term when its own leader changes (a lost host that ran the etcd leader would
 * add a whole lease duration to a failover). Each process watches the lease keys and notes, by its own monotonic
 * clock, when it saw each key change; a lease unchanged for its duration since then is expired, and is taken with a
 * txn that compares the key's mod revision, so a renewal that lands first wins. The holder stops acting before its
 * duration has passed since it sent its last successful renewal, which is before anyone can have seen that renewal
 * unchanged for the duration. The key also carries an etcd lease of twice the duration, so etcd removes what a holder
 * left behind even when nobody takes it over.
 */
import { randomUUID } from "node:crypto";
import { now, type Resource } from "../../api/index.ts";
import { LostLeaseError } from "../../errors/index.ts";
import { LEASE_NAMESPACE, leaseObject, leaseRecordOf, leaseSeconds, type LeaseSpec } from "../lease-object.ts";
import type { HeldLease, LeaseRecord, Leases } from "../leases.ts";
import { prepareCreate } from "../object-rules.ts";
import type { EtcdClient } from "./client.ts";
import type { KeyLayout } from "./layout.ts";
import type { StoredObjects } from "./stored-object.ts";
import { absent, unchangedSince, type Revisions } from "./transactions.ts";
import { watchRange, type EtcdWatch, type EtcdWatchEvent } from "./watch-stream.ts";
import type { KeyValue } from "./wire.ts";

/** etcd removes a lease key this many lease durations after its last renewal (a holder gone, nobody taking it over). */
const ETCD_TTL_FACTOR = 2;

/** When this process saw each lease key change last (its mod revision), by its monotonic clock. */
export class LeaseObservations {
  readonly #seen = new Map<string, { modRevision: number; at: number }>();
  readonly #now: () => number;

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** The key's mod revision now (undefined: absent), as just read, written or watched. */
  note(key: string, modRevision: number | undefined): void {
    if (modRevision === undefined) {
      this.#seen.delete(key);
      return;
    }
    const seen = this.#seen.get(key);
    // A watch event may arrive after a read that saw a later revision: never go back.
    if (seen === undefined || seen.modRevision < modRevision) this.#seen.set(key, { modRevision, at: this.#now() });
  }

  /** How long `kv` (noted before) has been seen unchanged. */
  unchangedFor(key: string, kv: Pick<KeyValue, "modRevision">): number {
    const seen = this.#seen.get(key);
    return seen?.modRevision === kv.modRevision ? this.#now() - seen.at : 0;
  }

  /** Changes may have been missed (a watch that had to start again): every key counts as just changed. */
  restart(): void {
    const at = this.#now();
    for (const seen of this.#seen.values()) seen.at = at;
  }
}

/** Who held a lease last and how often it changed hands: kept apart from the Lease key, which expires. */
interface Transitions {
  holder: string;
  transitions: number;
}

/** The Leases primitive on etcd. */
export class EtcdLeases implements Leases {
  private readonly client: EtcdClient;
  private readonly layout: KeyLayout;
  private readonly revisions: Revisions;
  private readonly objects: StoredObjects;
  private readonly observed: LeaseObservations;
  private watch: EtcdWatch | undefined;
  private stopped = false;

  constructor(client: EtcdClient, layout: KeyLayout, revisions: Revisions, objects: StoredObjects, observations: LeaseObservations = new LeaseObservations()) {
    this.client = client;
    this.layout = layout;
    this.revisions = revisions;
    this.objects = objects;
    this.observed = observations;
  }

  /** Follow every lease key's changes from now on, so expiry is judged from this process's start, whoever leads. */
  observe(): void {
    if (this.stopped) return;
    this.watch = watchRange(this.client, { key: this.layout.kind("Lease"), prefix: true }, this.revisions.latest + 1, {
      onEvents: (events: EtcdWatchEvent[]) => {
        for (const event of events) this.observed.note(event.kv.key, event.type === "DELETE" ? undefined : event.kv.modRevision);
      },
      onError: () => {
        this.observed.restart();
        this.observe();
      },
    });
  }

  stop(): void {
    this.stopped = true;
    this.watch?.cancel();
  }

  /** The key of lease `name` (its Lease object). */
  keyOf(name: string): string {
    return this.layout.object({ kind: "Lease", namespace: LEASE_NAMESPACE, name });
  }

  async tryAcquire(name: string, holder: string, durationMs: number): Promise<HeldLease | undefined> {
    const started = performance.now();
    const key = this.keyOf(name);
    const existing = await this.current(key);
    if (existing !== undefined && leaseRecordOf(this.objects.decode(existing)).holder !== holder && !this.expired(key, existing)) return undefined;
    const recordKey = this.layout.leaseRecord(name);
    const [records, etcdLease] = await Promise.all([this.client.range({ key: recordKey }), this.client.leaseGrant(leaseSeconds(durationMs) * ETCD_TTL_FACTOR)]);
    const record = records.kvs[0];
    const previous = record === undefined ? undefined : (JSON.parse(record.value) as Transitions);
    const transitions = previous === undefined ? 0 : previous.transitions + (previous.holder === holder ? 0 : 1);
    const time = now();
    const spec: LeaseSpec = { holderIdentity: holder, leaseDurationSeconds: leaseSeconds(durationMs), acquireTime: time, renewTime: time, leaseTransitions: transitions };
    const object = prepareCreate(leaseObject(name, spec), randomUUID(), time);
    // The key is replaced only if nobody changed it since it was read (a renewal that lands first keeps it where it is).
    const result = await this.client.txn(
      [existing === undefined ? absent(key) : unchangedSince(key, existing), record === undefined ? absent(recordKey) : unchangedSince(recordKey, record)],
      [
        { put: { key, value: this.objects.encode(object), lease: etcdLease } },
        { put: { key: recordKey, value: JSON.stringify({ holder, transitions } satisfies Transitions) } },
      ],
    );
    this.seen(result.revision);
    if (!result.succeeded) {
      await this.client.leaseRevoke(etcdLease);
      return undefined;
    }
    this.observed.note(key, result.revision);
    // The earlier acquisition's etcd lease no longer carries the key: revoking it removes nothing but itself.
    if (existing !== undefined && existing.lease !== "0") await this.client.leaseRevoke(existing.lease).catch(() => undefined);
    return { name, holder, token: etcdLease, durationMs, renewedAt: started };
  }

  async renew(lease: HeldLease): Promise<HeldLease> {
    const started = performance.now();
    const kv = await this.held(lease);
    if ((await this.client.leaseKeepAlive(kv.lease)) <= 0) throw lost(lease);
    const object = this.objects.decode(kv);
    const renewed: Resource = { ...object, spec: { ...(object.spec as LeaseSpec), renewTime: now() } };
    const result = await this.client.txn([{ key: kv.key, target: "LEASE", result: "EQUAL", value: lease.token }], [
      { put: { key: kv.key, value: this.objects.encode(renewed), lease: kv.lease } },
    ]);
    this.seen(result.revision);
    if (!result.succeeded) throw lost(lease);
    this.observed.note(kv.key, result.revision);
    return { ...lease, renewedAt: started };
  }

  async release(lease: HeldLease): Promise<void> {
    const kv = await this.held(lease).catch((error: unknown) => {
      if (error instanceof LostLeaseError) return undefined;
      throw error;
    });
    if (kv === undefined) return;
    const result = await this.client.txn([{ key: kv.key, target: "LEASE", result: "EQUAL", value: lease.token }], [{ deleteRange: { key: kv.key } }]);
    this.seen(result.revision);
    await this.client.leaseRevoke(kv.lease);
  }

  /** The lease key as etcd has it now, noted as seen. */
  private async current(key: string): Promise<KeyValue | undefined> {
    const kv = (await this.client.range({ key })).kvs[0];
    this.observed.note(key, kv?.modRevision);
    return kv;
  }

  /** Unchanged for at least its duration, as this process saw it. */
  private expired(key: string, kv: KeyValue): boolean {
    return this.observed.unchangedFor(key, kv) >= leaseRecordOf(this.objects.decode(kv)).durationMs;
  }

  async read(name: string): Promise<LeaseRecord | undefined> {
    const key = this.keyOf(name);
    const kv = await this.current(key);
    if (kv === undefined || this.expired(key, kv)) return undefined;
    const record = leaseRecordOf(this.objects.decode(kv));
    return { ...record, expiresInMs: record.durationMs - this.observed.unchangedFor(key, kv) };
  }

  /** The lease key as this acquisition holds it; LostLeaseError when it is gone or another acquisition's. */
  private async held(lease: HeldLease): Promise<KeyValue> {
    const kv = (await this.client.range({ key: this.keyOf(lease.name) })).kvs[0];
    if (kv === undefined || kv.lease !== lease.token) throw lost(lease);
    return kv;
  }

  private seen(revision: number): void {
    if (revision > this.revisions.latest) this.revisions.latest = revision;
  }
}

function lost(lease: HeldLease): LostLeaseError {
  return new LostLeaseError(`this node no longer holds the lease "${lease.name}" (it expired or another node took it over)`);
}
