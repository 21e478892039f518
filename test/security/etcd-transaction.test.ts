/** The optimistic transactions the etcd authentication backend is built on, against a real etcd. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { atomically, EtcdTransaction } from "../../src/security/authn/etcd-transaction.ts";
import { EtcdClient } from "../../src/store/index.ts";
import { etcdMissing, startEtcd, type TestEtcd } from "../helpers/etcd.ts";

describe("etcd optimistic transactions", { skip: etcdMissing() }, () => {
  let etcd: TestEtcd;
  let client: EtcdClient;

  before(async () => {
    etcd = await startEtcd();
    client = new EtcdClient({ endpoints: etcd.endpoints });
  });
  after(async () => {
    await client.close();
    await etcd.destroy();
  });

  it("does not commit over a key read with get that changed meanwhile, nor over one that appeared", async () => {
    await client.put("/t/a", "1");
    const tx = new EtcdTransaction(client);
    assert.equal(await tx.get("/t/a"), "1");
    assert.equal(await tx.get("/t/absent"), undefined);
    tx.put("/t/a", "2");
    await client.put("/t/a", "changed elsewhere");
    assert.equal(await tx.commit(), false);
    assert.equal((await client.range({ key: "/t/a" })).kvs[0]?.value, "changed elsewhere");

    const appeared = new EtcdTransaction(client);
    assert.equal(await appeared.get("/t/new"), undefined);
    appeared.put("/t/new", "mine");
    await client.put("/t/new", "theirs");
    assert.equal(await appeared.commit(), false);
  });

  it("guards a listed key once it is written or deleted: a deleted record is never brought back", async () => {
    await client.put("/l/x", "1");
    await client.put("/l/y", "1");
    const tx = new EtcdTransaction(client);
    assert.deepEqual((await tx.list("/l/")).map((entry) => entry.key), ["/l/x", "/l/y"]);
    tx.put("/l/x", "revoked");
    await client.deleteRange({ key: "/l/x" });
    assert.equal(await tx.commit(), false);
    assert.equal((await client.range({ key: "/l/x" })).kvs.length, 0);
  });

  it("runs the work again from fresh reads until it commits", async () => {
    await client.put("/c/n", "0");
    let attempts = 0;
    const result = await atomically(client, async (tx) => {
      attempts += 1;
      const value = Number(await tx.get("/c/n"));
      // Another node increments first, once.
      if (attempts === 1) await client.put("/c/n", String(value + 1));
      tx.put("/c/n", String(value + 1));
      return value + 1;
    });
    assert.equal(attempts, 2);
    assert.equal(result, 2);
    assert.equal((await client.range({ key: "/c/n" })).kvs[0]?.value, "2");
  });

  it("counts every one of many concurrent increments", async () => {
    await client.put("/c/m", "0");
    const increment = (): Promise<void> =>
      atomically(client, async (tx) => {
        tx.put("/c/m", String(Number(await tx.get("/c/m")) + 1));
      });
    await Promise.all(Array.from({ length: 20 }, increment));
    assert.equal((await client.range({ key: "/c/m" })).kvs[0]?.value, "20");
  });
});
