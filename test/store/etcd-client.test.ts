import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { GoneError, UnavailableError } from "../../src/errors/index.ts";
import { etcdMissing, startEtcd, type TestEtcd } from "../helpers/etcd.ts";
import { EtcdClient, parseEtcdUrl, watchRange, type EtcdWatchEvent } from "../../src/store/index.ts";

const skip = etcdMissing();
if (skip !== undefined) console.log(`# ${skip}`);

describe("parseEtcdUrl", () => {
  it("reads every member of etcd://H1:P1,H2:P2 and refuses anything else", () => {
    assert.deepEqual(parseEtcdUrl("etcd://10.0.0.1:2379,db2:2379,[::1]:2381"), ["10.0.0.1:2379", "db2:2379", "[::1]:2381"]);
    assert.throws(() => parseEtcdUrl("http://h1:2379"), /etcd:\/\/HOST:PORT/);
    assert.throws(() => parseEtcdUrl("etcd://h1"), /not HOST:PORT/);
    assert.throws(() => parseEtcdUrl("etcd://h1:99999"), /not HOST:PORT/);
  });
});

describe("EtcdClient against a real etcd", { skip }, () => {
  let etcd: TestEtcd;
  let client: EtcdClient;

  before(async () => {
    etcd = await startEtcd();
    client = new EtcdClient({ endpoints: etcd.endpoints, requestTimeoutMs: 3000 });
  });
  after(async () => {
    await client.close();
    await etcd.destroy();
  });

  it("puts, ranges by prefix, runs guarded transactions and deletes", async () => {
    const r1 = await client.put("/t/a", "1");
    await client.put("/t/b", "2");
    await client.put("/u/c", "3");
    const range = await client.range({ key: "/t/", prefix: true });
    assert.deepEqual(range.kvs.map((kv) => [kv.key, kv.value]), [["/t/a", "1"], ["/t/b", "2"]]);
    assert.equal(range.kvs[0]?.modRevision, r1);
    const create = await client.txn([{ key: "/t/a", target: "CREATE", result: "EQUAL", value: 0 }], [{ put: { key: "/t/a", value: "x" } }], [{ range: { key: "/t/a" } }]);
    assert.equal(create.succeeded, false);
    assert.equal(create.responses[0]?.kvs?.[0]?.value, "1");
    const guarded = await client.txn([{ key: "/t/a", target: "MOD", result: "EQUAL", value: r1 }], [{ put: { key: "/t/a", value: "y" } }]);
    assert.equal(guarded.succeeded, true);
    const removed = await client.deleteRange({ key: "/t/", prefix: true });
    assert.equal(removed.deleted, 2);
    assert.equal((await client.range({ key: "/t/", prefix: true, countOnly: true })).count, 0);
  });

  it("watches from a revision without gaps, and ends with GoneError once that revision is compacted", async () => {
    const first = await client.put("/w/a", "1");
    await client.put("/w/a", "2");
    await client.deleteRange({ key: "/w/a" });
    const seen: EtcdWatchEvent[] = [];
    const watch = watchRange(client, { key: "/w/", prefix: true }, first, { onEvents: (events) => seen.push(...events), onError: () => undefined });
    await until(() => seen.length === 3);
    watch.cancel();
    assert.deepEqual(seen.map((e) => `${e.type} ${e.kv.value || e.prevKv?.value}`), ["PUT 1", "PUT 2", "DELETE 2"]);
    const now = await client.put("/w/b", "3");
    await client.compact(now);
    let ended: Error | undefined;
    watchRange(client, { key: "/w/", prefix: true }, first, { onEvents: () => undefined, onError: (error) => (ended = error) });
    await until(() => ended !== undefined);
    assert.ok(ended instanceof GoneError);
    await assert.rejects(client.range({ key: "/w/", prefix: true, revision: first }), GoneError);
  });

  it("grants, keeps alive and revokes leases; a revoked lease's keys are gone", async () => {
    const lease = await client.leaseGrant(5);
    await client.put("/l/k", "v", { lease });
    assert.ok((await client.leaseKeepAlive(lease)) > 0);
    await client.leaseRevoke(lease);
    assert.equal((await client.range({ key: "/l/k" })).count, 0);
    assert.equal(await client.leaseKeepAlive(lease), 0);
    await client.leaseRevoke(lease);
  });

  it("reports status, defragments, and answers 503 with a clear message when no member is reachable", async () => {
    const status = await client.status();
    assert.match(status.version, /^3\./);
    await client.defragment();
    const dead = new EtcdClient({ endpoints: ["127.0.0.1:1", "127.0.0.1:2"], requestTimeoutMs: 1000 });
    await assert.rejects(dead.put("/x", "y"), (error: unknown) => {
      assert.ok(error instanceof UnavailableError);
      assert.match(error.message, /the store \(etcd at 127\.0\.0\.1:1,127\.0\.0\.1:2\) does not answer/);
      return true;
    });
    await dead.close();
  });
});

describe("EtcdClient with three members", { skip }, () => {
  it("fails over when a member dies, and refuses writes with 503 once quorum is lost, writing nothing", async () => {
    const etcd = await startEtcd({ members: 3 });
    const client = new EtcdClient({ endpoints: etcd.endpoints });
    try {
      await client.put("/q/before", "1");
      // A follower dies: nothing is visible. (A dying leader makes writes in flight wait out the deadline once.)
      const leader = await etcd.leader();
      const follower = (leader + 1) % 3;
      const other = (leader + 2) % 3;
      await etcd.kill(follower);
      await client.put("/q/one-down", "1");
      assert.equal((await client.range({ key: "/q/", prefix: true })).count, 2);
      await etcd.kill(other);
      const started = Date.now();
      await assert.rejects(client.put("/q/two-down", "1"), (error: unknown) => {
        assert.ok(error instanceof UnavailableError);
        assert.match(error.message, /does not answer: no quorum/);
        return true;
      });
      assert.ok(Date.now() - started < 12_000, "a lost quorum is reported within the request deadline");
      await etcd.restart(follower);
      await etcd.restart(other);
      const after = await client.range({ key: "/q/", prefix: true });
      assert.deepEqual(after.kvs.map((kv) => kv.key).filter((key) => key !== "/q/two-down"), ["/q/before", "/q/one-down"]);
      await client.put("/q/healed", "1");
    } finally {
      await client.close();
      await etcd.destroy();
    }
  });

  it("moves its watches and requests off a member that stops answering without closing connections (SIGSTOP)", async () => {
    const etcd = await startEtcd({ members: 3 });
    const client = new EtcdClient({ endpoints: etcd.endpoints });
    const writer = new EtcdClient({ endpoints: etcd.endpoints.slice(1) });
    const seen: string[] = [];
    const watch = watchRange(client, { key: "/silent/", prefix: true }, 0, { onEvents: (events) => seen.push(...events.map((e) => e.kv.key)), onError: () => undefined });
    const stopped = etcd.members[0]?.process?.pid;
    try {
      await writer.put("/silent/before", "1");
      await until(() => seen.includes("/silent/before"));
      // The first member (where the watch and the client's requests go) freezes: its sockets stay open, silent.
      assert.ok(stopped !== undefined);
      await etcd.kill(0, "SIGSTOP");
      const reading = client.range({ key: "/silent/", prefix: true });
      await writer.put("/silent/after", "1").catch(async () => writer.put("/silent/after", "1"));
      // Without probes the watch would wait on the frozen member forever, and the read until its 5 s deadline.
      await until(() => seen.includes("/silent/after"), 10_000);
      assert.ok((await reading).count >= 1);
    } finally {
      if (stopped !== undefined) process.kill(stopped, "SIGCONT");
      watch.cancel();
      await client.close();
      await writer.close();
      await etcd.destroy();
    }
  });
});

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("EtcdClient over TLS with a client certificate", { skip }, () => {
  it("speaks https to members that require a client certificate, and is refused without one", async () => {
    const etcd = await startEtcd({ tls: true });
    const tls = etcd.tls!;
    const client = new EtcdClient({ endpoints: etcd.endpoints, ca: tls.ca, cert: tls.cert, key: tls.key });
    const anonymous = new EtcdClient({ endpoints: etcd.endpoints, ca: tls.ca, requestTimeoutMs: 2000 });
    const plain = new EtcdClient({ endpoints: etcd.endpoints, requestTimeoutMs: 2000 });
    try {
      await client.put("/tls/k", "v");
      assert.equal((await client.range({ key: "/tls/k" })).kvs[0]?.value, "v");
      await assert.rejects(anonymous.range({ key: "/tls/k" }), UnavailableError);
      await assert.rejects(plain.range({ key: "/tls/k" }), UnavailableError);
      assert.throws(() => new EtcdClient({ endpoints: etcd.endpoints, ca: tls.ca, cert: tls.cert }), /both the certificate and its key/);
    } finally {
      await Promise.all([client.close(), anonymous.close(), plain.close()]);
      await etcd.destroy();
    }
  });
});
