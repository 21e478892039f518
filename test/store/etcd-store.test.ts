/**
 * The store contract against a real etcd 3.4 started here, plus what only etcd has: reopening a keyspace, a cascade a
 * crash left half-done, a controller that relists after a compaction, and a store with a member down.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Controller, type Reconciler } from "../../src/controllers/runtime/index.ts";
import { UnavailableError } from "../../src/errors/index.ts";
import {
  EtcdClient,
  openEtcdStore,
  type EtcdStoreOptions,
  type Store,
} from "../../src/store/index.ts";
import { cluster, describeStoreContract, ownedInstance, until, type StoreHarness } from "../../src/store/contract/index.ts";
import { Writable } from "node:stream";
import { createLogger } from "../../src/util/index.ts";
import { etcdMissing, startEtcd, type TestEtcd } from "../helpers/etcd.ts";

const skip = etcdMissing();
if (skip !== undefined) console.log(`# ${skip}`);

let etcd: TestEtcd;
let admin: EtcdClient;
let keyspaces = 0;

function etcdHarness(): StoreHarness {
  const opened: Store[] = [];
  return {
    name: "etcd",
    async open(options = {}) {
      keyspaces += 1;
      const settings: EtcdStoreOptions = { endpoints: etcd.endpoints, prefix: `/holdfast-test-${keyspaces}/`, compactionIntervalMs: 0 };
      if (options.codec !== undefined) settings.codec = options.codec;
      if (options.onWatchError !== undefined) settings.onWatchError = options.onWatchError;
      const store = await openEtcdStore(settings);
      opened.push(store);
      return store;
    },
    compact: (_store, resourceVersion) => admin.compact(Number(resourceVersion)),
    cleanup() {
      for (const store of opened.splice(0)) store.close();
      return Promise.resolve();
    },
  };
}

describe("the store on etcd", { skip }, () => {
  before(async () => {
    etcd = await startEtcd();
    admin = new EtcdClient({ endpoints: etcd.endpoints });
  });
  after(async () => {
    await admin.close();
    await etcd.destroy();
  });

  describeStoreContract(etcdHarness());

  it("keeps its objects and its counter across a reopen of the same prefix, and tells keyspaces apart", async () => {
    const first = await openEtcdStore({ endpoints: etcd.endpoints, prefix: "/reopen/", compactionIntervalMs: 0 });
    const other = await openEtcdStore({ endpoints: etcd.endpoints, prefix: "/reopen-other/", compactionIntervalMs: 0 });
    try {
      const a = await first.create(cluster("a"));
      first.close();
      await assert.rejects(first.get({ kind: "Cluster", namespace: "default", name: "a" }), UnavailableError);
      const again = await openEtcdStore({ endpoints: etcd.endpoints, prefix: "/reopen/", compactionIntervalMs: 0 });
      assert.deepEqual(await again.get({ kind: "Cluster", namespace: "default", name: "a" }), a);
      const b = await again.create(cluster("b"));
      assert.ok(Number(b.metadata.resourceVersion) > Number(a.metadata.resourceVersion));
      assert.deepEqual((await other.list("Cluster")).items, []);
      again.close();
    } finally {
      other.close();
    }
  });

  it("works on a client it is given, and leaves that client open when it closes", async () => {
    const store = await openEtcdStore({ client: admin, prefix: "/shared-client/", compactionIntervalMs: 0 });
    await store.create(cluster("a"));
    store.close();
    assert.equal((await admin.range({ key: "/shared-client/registry/Cluster/default/a" })).count, 1);
  });

  it("finishes a cascade that a crash left half-done when a store opens", async () => {
    const prefix = "/half-done/";
    const store = await openEtcdStore({ endpoints: etcd.endpoints, prefix, compactionIntervalMs: 0 });
    const owner = await store.create(cluster("owner"));
    await store.create(ownedInstance("orphan", owner));
    // What a crash right after the owner's removal txn leaves: the owner gone, its marker there, the dependent left.
    const uid = owner.metadata.uid ?? "";
    await admin.txn([], [{ deleteRange: { key: `${prefix}registry/Cluster/default/owner` } }, { put: { key: `${prefix}gc/${uid}`, value: "{}" } }]);
    store.close();
    const reopened = await openEtcdStore({ endpoints: etcd.endpoints, prefix, compactionIntervalMs: 0 });
    await eventually(async () => (await reopened.list("Instance")).items.length === 0, "the dependent to be collected");
    assert.equal((await admin.range({ key: `${prefix}gc/`, prefix: true })).count, 0);
    reopened.close();
  });
});

describe("a controller on etcd across a compaction", { skip }, () => {
  it("gets 410 Gone when its watch resumes past compacted history, lists again and converges", async () => {
    const cluster3 = await startEtcd({ members: 3 });
    const leader = await cluster3.leader();
    const follower = (leader + 1) % 3;
    // The controller's store reaches one follower only, so its watch breaks when that member goes away.
    const prefix = "/controller/";
    const store = await openEtcdStore({ endpoints: [cluster3.endpoints[follower] ?? ""], prefix, compactionIntervalMs: 0 });
    const others = new EtcdClient({ endpoints: cluster3.endpoints.filter((_, index) => index !== follower) });
    const writer = await openEtcdStore({ endpoints: cluster3.endpoints.filter((_, index) => index !== follower), prefix, compactionIntervalMs: 0 });
    const seen = new Map<string, number>();
    const reconciler: Reconciler = {
      async reconcile(key: string) {
        const [namespace = "", name = ""] = key.split("/");
        const object = await store.get({ kind: "Cluster", namespace, name });
        seen.set(name, object === undefined ? -1 : (object.spec as { replicas: number }).replicas);
        return undefined;
      },
    };
    const logs: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger({ level: "info", destination });
    const controller = new Controller({ name: "test", store, reconciler, watches: [{ kind: "Cluster" }], logger });
    try {
      const a = await writer.create(cluster("a"));
      await controller.start();
      await until(() => seen.get("a") === 1, 5000, "the first reconcile");
      await cluster3.kill(follower);
      // While the controller's member is down: changes, then a compaction past them.
      await writer.update({ ...a, spec: { replicas: 2 } });
      const b = await writer.create(cluster("b", { replicas: 5 }));
      await writer.delete({ kind: "Cluster", namespace: "default", name: "a" });
      await others.compact(Number(b.metadata.resourceVersion) + 1);
      await cluster3.restart(follower);
      await until(() => seen.get("a") === -1 && seen.get("b") === 5, 20_000, "the controller to converge");
      assert.ok(logs.some((line) => line.includes("watch ended; listing again") && line.includes("too old resource version")), logs.join("\n"));
      await writer.create(cluster("c", { replicas: 9 }));
      await until(() => seen.get("c") === 9, 10_000, "the new watch to deliver");
      // Two of three members down: the store refuses writes with 503 and says why; nothing of them appears later.
      const down = [0, 1, 2].filter((index) => index !== follower);
      for (const index of down) await cluster3.kill(index);
      await assert.rejects(store.create(cluster("during-outage")), (error: unknown) => {
        assert.ok(error instanceof UnavailableError);
        assert.equal(error.httpStatus, 503);
        assert.match(error.message, /the store \(etcd at 127\.0\.0\.1:\d+\) does not answer: no quorum/);
        return true;
      });
      for (const index of down) await cluster3.restart(index);
      await eventually(async () => (await store.list("Cluster").catch(() => undefined)) !== undefined, "the store to answer again", 20_000);
      assert.equal(await store.get({ kind: "Cluster", namespace: "default", name: "during-outage" }), undefined);
      assert.ok(await store.create(cluster("after-outage")));
    } finally {
      await controller.stop();
      store.close();
      writer.close();
      await others.close();
      await cluster3.destroy();
    }
  });
});

async function eventually(condition: () => Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
