/**
 * The owner cascade on etcd. Removing an owner that has dependents writes a `gc/<uid>` marker in the same txn as the
 * removal; its dependents are then removed (or marked for deletion when they have finalizers) one guarded txn each,
 * and the marker goes last. A crash in between leaves the marker, and the next store to open finishes the job, so the
 * cascade is never lost and never removes an object that still has a live owner.
 */
import { allKinds, type Resource } from "../../api/index.ts";
import { errorMessage } from "../../errors/index.ts";
import { hasFinalizers, isTerminating, keyOf, ownerUids, type ObjectKey } from "../object-rules.ts";
import type { KeyLayout } from "./layout.ts";
import type { StoredObjects } from "./stored-object.ts";
import { unchangedSince, type Transactions } from "./transactions.ts";
import type { EtcdClient } from "./client.ts";
import type { KeyValue } from "./wire.ts";

/** How a store removes one object (and cascades from it) and marks one for deletion. */
export interface Removal {
  /** Remove the object at `kv` if it is unchanged; undefined when it changed meanwhile. */
  remove(kv: KeyValue, object: Resource, extra?: ReturnType<Transactions["ownerIndexOps"]>): Promise<Resource | undefined>;
  /** Set deletionTimestamp if the object is unchanged; undefined when it changed meanwhile. */
  markDeleted(kv: KeyValue, object: Resource, extra?: ReturnType<Transactions["ownerIndexOps"]>): Promise<Resource | undefined>;
}

const ATTEMPTS = 5;

/** Collects the dependents of removed owners. */
export class GarbageCollector {
  private readonly client: EtcdClient;
  private readonly layout: KeyLayout;
  private readonly objects: StoredObjects;
  private readonly txns: Transactions;

  constructor(client: EtcdClient, layout: KeyLayout, objects: StoredObjects, txns: Transactions) {
    this.client = client;
    this.layout = layout;
    this.objects = objects;
    this.txns = txns;
  }

  /** Collect the dependents of removed owner `uid`, then drop its marker. */
  async collect(uid: string, removal: Removal): Promise<void> {
    const entries = await this.client.range({ key: this.layout.owners(uid), prefix: true });
    for (const entry of entries.kvs) await this.collectDependent(uid, entry, removal);
    await this.txns.commit([], [{ deleteRange: { key: this.layout.garbageMarker(uid) } }]);
  }

  /** Finish every cascade a crash or a lost lease left half-done. */
  async sweep(removal: Removal, onError: (error: unknown) => void): Promise<void> {
    const markers = await this.client.range({ key: this.layout.garbage(), prefix: true, keysOnly: true });
    for (const marker of markers.kvs) {
      const uid = marker.key.slice(this.layout.garbage().length);
      await this.collect(uid, removal).catch((error: unknown) => onError(new Error(`collecting the dependents of ${uid}: ${errorMessage(error)}`)));
    }
  }

  private async collectDependent(ownerUid: string, entry: KeyValue, removal: Removal): Promise<void> {
    const key = JSON.parse(entry.value) as ObjectKey;
    const dropEntry = [{ deleteRange: { key: entry.key } }];
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const kv = await this.txns.read(this.layout.object(key));
      const dependent = kv === undefined ? undefined : this.objects.decodeListed(kv);
      if (kv === undefined || dependent === undefined || !ownerUids(dependent).includes(ownerUid) || (await this.hasLiveOwner(dependent, ownerUid))) {
        await this.txns.commit([], dropEntry);
        return;
      }
      if (isTerminating(dependent) && hasFinalizers(dependent)) {
        await this.txns.commit([unchangedSince(this.layout.object(key), kv)], dropEntry);
        return;
      }
      const done = hasFinalizers(dependent) ? await removal.markDeleted(kv, dependent, dropEntry) : await removal.remove(kv, dependent);
      if (done !== undefined) return;
    }
  }

  /** A dependent with several owners goes only when none of them is left, as Kubernetes' garbage collector decides. */
  private async hasLiveOwner(dependent: Resource, removedUid: string): Promise<boolean> {
    for (const reference of dependent.metadata.ownerReferences ?? []) {
      if (reference.uid === removedUid) continue;
      const key = ownerKey(dependent, reference.kind, reference.name);
      if (key === undefined) continue;
      const kv = await this.txns.read(this.layout.object(key));
      if (kv !== undefined && this.objects.decodeListed(kv).metadata.uid === reference.uid) return true;
    }
    return false;
  }
}

/** Where an owner named by a reference lives: in the dependent's namespace, unless its kind is cluster-scoped. */
function ownerKey(dependent: Resource, kind: string, name: string): ObjectKey | undefined {
  const info = allKinds().find((candidate) => candidate.kind === kind);
  if (info === undefined) return undefined;
  return keyOf(info.namespaced ? { kind, namespace: dependent.metadata.namespace ?? "", name } : { kind, name });
}
