/**
 * Leases on etcd: the Lease object's key is put with an etcd lease whose TTL is the lease duration, so etcd itself
 * removes it when the holder stops renewing. Taking a lease is a txn "the key does not exist"; each acquisition
 * therefore has a new create revision, which is its token, and fenced writes compare it in their own txn. The same
 * holder (a node after a restart) removes its earlier acquisition's key first, and so takes the lease over at once.
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
import type { KeyValue } from "./wire.ts";

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

  constructor(client: EtcdClient, layout: KeyLayout, revisions: Revisions, objects: StoredObjects) {
    this.client = client;
    this.layout = layout;
    this.revisions = revisions;
    this.objects = objects;
  }

  /** The key of lease `name` (its Lease object). */
  keyOf(name: string): string {
    return this.layout.object({ kind: "Lease", namespace: LEASE_NAMESPACE, name });
  }

  async tryAcquire(name: string, holder: string, durationMs: number): Promise<HeldLease | undefined> {
    const started = performance.now();
    const key = this.keyOf(name);
    if (!(await this.endEarlierAcquisition(key, holder))) return undefined;
    const recordKey = this.layout.leaseRecord(name);
    const record = (await this.client.range({ key: recordKey })).kvs[0];
    const previous = record === undefined ? undefined : (JSON.parse(record.value) as Transitions);
    const transitions = previous === undefined ? 0 : previous.transitions + (previous.holder === holder ? 0 : 1);
    const etcdLease = await this.client.leaseGrant(leaseSeconds(durationMs));
    const time = now();
    const spec: LeaseSpec = { holderIdentity: holder, leaseDurationSeconds: leaseSeconds(durationMs), acquireTime: time, renewTime: time, leaseTransitions: transitions };
    const object = prepareCreate(leaseObject(name, spec), randomUUID(), time);
    const result = await this.client.txn(
      [absent(key), record === undefined ? absent(recordKey) : unchangedSince(recordKey, record)],
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
    return { name, holder, token: String(result.revision), durationMs, renewedAt: started };
  }

  async renew(lease: HeldLease): Promise<HeldLease> {
    const started = performance.now();
    const kv = await this.held(lease);
    if ((await this.client.leaseKeepAlive(kv.lease)) <= 0) throw lost(lease);
    const object = this.objects.decode(kv);
    const renewed: Resource = { ...object, spec: { ...(object.spec as LeaseSpec), renewTime: now() } };
    const result = await this.client.txn([{ key: kv.key, target: "CREATE", result: "EQUAL", value: lease.token }], [
      { put: { key: kv.key, value: this.objects.encode(renewed), lease: kv.lease } },
    ]);
    this.seen(result.revision);
    if (!result.succeeded) throw lost(lease);
    return { ...lease, renewedAt: started };
  }

  async release(lease: HeldLease): Promise<void> {
    const kv = await this.held(lease).catch((error: unknown) => {
      if (error instanceof LostLeaseError) return undefined;
      throw error;
    });
    if (kv === undefined) return;
    const result = await this.client.txn([{ key: kv.key, target: "CREATE", result: "EQUAL", value: lease.token }], [{ deleteRange: { key: kv.key } }]);
    this.seen(result.revision);
    await this.client.leaseRevoke(kv.lease);
  }

  /**
   * A lease held now may be taken only by its own holder: the same node after a restart (names are unique per node),
   * which takes it over at once rather than after expiry, as the embedded store does. The earlier acquisition ends
   * (its key is removed, so its token no longer matches). False when another holder has it.
   */
  private async endEarlierAcquisition(key: string, holder: string): Promise<boolean> {
    const existing = (await this.client.range({ key })).kvs[0];
    if (existing === undefined) return true;
    if (leaseRecordOf(this.objects.decode(existing)).holder !== holder) return false;
    const removed = await this.client.txn([unchangedSince(key, existing)], [{ deleteRange: { key } }]);
    this.seen(removed.revision);
    if (removed.succeeded && existing.lease !== "0") await this.client.leaseRevoke(existing.lease).catch(() => undefined);
    return removed.succeeded;
  }

  async read(name: string): Promise<LeaseRecord | undefined> {
    const kv = (await this.client.range({ key: this.keyOf(name) })).kvs[0];
    return kv === undefined ? undefined : leaseRecordOf(this.objects.decode(kv));
  }

  /** The lease key as this acquisition holds it; LostLeaseError when it is gone or another acquisition's. */
  private async held(lease: HeldLease): Promise<KeyValue> {
    const kv = (await this.client.range({ key: this.keyOf(lease.name) })).kvs[0];
    if (kv === undefined || String(kv.createRevision) !== lease.token) throw lost(lease);
    return kv;
  }

  private seen(revision: number): void {
    if (revision > this.revisions.latest) this.revisions.latest = revision;
  }
}

function lost(lease: HeldLease): LostLeaseError {
  return new LostLeaseError(`this node no longer holds the lease "${lease.name}" (it expired or another node took it over)`);
}
