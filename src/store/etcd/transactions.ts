/**
 * The write side of the etcd store: every write is one etcd txn guarded by the key's revision (and, in a fenced
 * view, by the etcd lease the lease key is attached to), so a write is all there or not there, and never lands on a version the
 * caller did not read.
 */
import { LostLeaseError } from "../../errors/index.ts";
import type { Resource } from "../../api/index.ts";
import { ownerUids, type ObjectKey } from "../object-rules.ts";
import type { Compare, EtcdClient, TxnOp, TxnResult } from "./client.ts";
import type { KeyLayout } from "./layout.ts";
import type { KeyValue } from "./wire.ts";

/** A lease this view's writes are conditional on: the lease key must still be attached to this etcd lease (the token). */
export interface Fence {
  name: string;
  key: string;
  token: string;
}

/** Shared state of a store and its fenced views. */
export interface Revisions {
  /** The newest revision this process has seen in any answer. */
  latest: number;
  /** History at or below this revision is known to be compacted. */
  compacted: number;
}

/** Runs guarded txns for one store view. */
export class Transactions {
  private readonly client: EtcdClient;
  private readonly layout: KeyLayout;
  private readonly revisions: Revisions;
  private readonly fence: Fence | undefined;

  constructor(client: EtcdClient, layout: KeyLayout, revisions: Revisions, fence: Fence | undefined) {
    this.client = client;
    this.layout = layout;
    this.revisions = revisions;
    this.fence = fence;
  }

  /** Run `ops` if `compares` hold (and the fence, if any); a lost fence is LostLeaseError, nothing written. */
  async commit(compares: Compare[], ops: TxnOp[]): Promise<TxnResult> {
    const fence = this.fence;
    const guard: Compare[] = fence === undefined ? [] : [{ key: fence.key, target: "LEASE", result: "EQUAL", value: fence.token }];
    const failure: TxnOp[] = fence === undefined ? [] : [{ range: { key: fence.key } }];
    const result = await this.client.txn([...compares, ...guard], ops, failure);
    this.seen(result.revision);
    if (!result.succeeded && fence !== undefined) {
      const holder = result.responses[0]?.kvs?.[0];
      if (holder === undefined || holder.lease !== fence.token) {
        throw new LostLeaseError(`this node no longer holds the lease "${fence.name}" (another node took it over or it expired); nothing was written`);
      }
    }
    return result;
  }

  /** Read one key. */
  async read(key: string): Promise<KeyValue | undefined> {
    const result = await this.client.range({ key });
    this.seen(result.revision);
    return result.kvs[0];
  }

  seen(revision: number): void {
    if (revision > this.revisions.latest) this.revisions.latest = revision;
  }

  /** The owner-index changes when an object's owners go from `before` to `after`. */
  ownerIndexOps(key: ObjectKey, before: Resource | undefined, after: Resource | undefined): TxnOp[] {
    const old = new Set(before === undefined ? [] : ownerUids(before));
    const next = new Set(after === undefined ? [] : ownerUids(after));
    const value = JSON.stringify(key);
    const ops: TxnOp[] = [];
    for (const uid of next) if (!old.has(uid)) ops.push({ put: { key: this.layout.ownerEntry(uid, key), value } });
    for (const uid of old) if (!next.has(uid)) ops.push({ deleteRange: { key: this.layout.ownerEntry(uid, key) } });
    return ops;
  }
}

/** The compare that a key is still at the revision that was read. */
export function unchangedSince(key: string, kv: KeyValue): Compare {
  return { key, target: "MOD", result: "EQUAL", value: kv.modRevision };
}

/** The compare that a key does not exist. */
export function absent(key: string): Compare {
  return { key, target: "CREATE", result: "EQUAL", value: 0 };
}
