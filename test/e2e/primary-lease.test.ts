/**
 * Fencing by lease (ADR 0029) on one node over a 3-member etcd: the primary of a PostgreSQL cluster runs under its
 * component's primary lease. With the store out of reach (two of three etcd members stopped), its node agent cannot
 * renew and fences the primary before the lease can expire: the last write acknowledged after the cut comes within
 * the lease duration. With the members back, the cluster has a primary again and nothing acknowledged is missing. A
 * node agent killed and started again takes its leases over at once: no failover.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import type { Cluster, Instance } from "../../src/api/index.ts";
import { etcdMissing, startEtcd, type TestEtcd } from "../helpers/etcd.ts";
import { connectionUri, installedPostgresMajor } from "../helpers/clients.ts";
import { PgWriter } from "../helpers/pg-writer.ts";
import { eventually, TestServer } from "../helpers/harness.ts";
import { exampleWith } from "../helpers/manifests.ts";

const NS = "demo";
const NAME = "pg-cluster";
const LEASE_SECONDS = 2;
const skip = etcdMissing();

async function query<T extends pg.QueryResultRow>(uri: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: uri, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe("primary lease on etcd", { skip }, () => {
  let etcd: TestEtcd | undefined;
  let server: TestServer | undefined;

  before(async () => {
    etcd = await startEtcd({ members: 3 });
    server = await TestServer.start({ initArgs: ["--store", etcd.url, "--node-name", "lease1", "--advertise", "127.0.0.1"], listenHost: "127.0.0.1" });
    await server.ok(["create", "namespace", NS]);
    const major = await installedPostgresMajor();
    await server.ok(["apply", "-f", "-"], await exampleWith("postgresql/cluster.yaml", (doc) => {
      doc["metadata"].annotations = { "holdfast.io/ha-lease-seconds": String(LEASE_SECONDS) };
      doc["spec"].componentSpecs[0].replicas = 2;
      doc["spec"].componentSpecs[0].serviceVersion = major;
    }));
    await server.ok(["wait", `cluster/${NAME}`, "-n", NS, "--for=phase=Running", "--timeout=180s"]);
  });

  after(async () => {
    await server?.destroy();
    await etcd?.destroy();
  });

  const primary = async (s: TestServer): Promise<Instance> => {
    const cluster = await s.api<Cluster>(`/apis/apps.kubeblocks.io/v1/namespaces/${NS}/clusters/${NAME}`);
    const name = cluster.status?.replication?.["postgresql"]?.currentPrimary ?? assert.fail("a primary is recorded");
    return s.api<Instance>(`/apis/holdfast.io/v1alpha1/namespaces/${NS}/instances/${name}`);
  };

  test("the primary holds its component's lease, shown as a Lease object and in its status", async () => {
    const s = server ?? assert.fail("server");
    const held = await eventually("the primary's lease in its status", async () => (await primary(s)).status?.primaryLease, 30_000);
    const lease = await s.api<{ spec?: { holderIdentity?: string; leaseDurationSeconds?: number } }>(`/apis/coordination.k8s.io/v1/namespaces/holdfast-system/leases/${held.name}`);
    const spec = lease.spec ?? assert.fail("the Lease has a spec");
    assert.equal(spec.holderIdentity, held.holder);
    assert.equal(spec.leaseDurationSeconds, LEASE_SECONDS);
    assert.match(held.holder, /^lease1\/pg-cluster-postgresql-\d\//);
  });

  test("a node agent killed and started again keeps its primary: the lease is taken over at once, no failover", async () => {
    const s = server ?? assert.fail("server");
    const before = await primary(s);
    await s.kill();
    await s.startProcess();
    await sleep(LEASE_SECONDS * 1000 + 2000);
    const after = await primary(s);
    assert.equal(after.metadata.name, before.metadata.name);
    assert.equal(after.status?.pid, before.status?.pid, "the same process: not fenced, not restarted");
    const events = await s.ok(["get", "events", "-n", NS]);
    assert.doesNotMatch(events, /FailoverStarted|LeaseLost/);
  });

  test("a node restarted slower than its lease keeps its primary too: the lapsed lease is taken back, no failover", async () => {
    const s = server ?? assert.fail("server");
    const before = await primary(s);
    await s.kill();
    // Longer than the lease: etcd drops the key before the node is back (a slow restart on a loaded machine).
    await sleep(LEASE_SECONDS * 1000 + 1500);
    await s.startProcess();
    await sleep(LEASE_SECONDS * 1000 + 2000);
    const after = await eventually("the primary holds its lease again", async () => {
      const current = await primary(s);
      return current.status?.primaryLease === undefined ? undefined : current;
    }, 30_000);
    assert.equal(after.metadata.name, before.metadata.name);
    assert.equal(after.status?.pid, before.status?.pid, "the same process: not fenced, not restarted");
    const events = await s.ok(["get", "events", "-n", NS]);
    assert.doesNotMatch(events, /FailoverStarted|LeaseLost/);
  });

  test("with the store out of reach the primary stops acknowledging writes within the lease; with it back, a primary again and nothing lost", async () => {
    const s = server ?? assert.fail("server");
    const cluster = etcd ?? assert.fail("etcd");
    const uri = await connectionUri(s, NAME, NS);
    await query(uri, "CREATE TABLE IF NOT EXISTS lease_writes (id bigint PRIMARY KEY)");
    const old = await primary(s);
    // Through the read-write endpoint: it keeps sending to the old primary while the store is out of reach.
    const writer = new PgWriter(uri, "lease_writes");
    await eventually("writes acknowledged", () => Promise.resolve(writer.acknowledged.length > 20 ? true : undefined), 30_000);
    const cut = performance.now();
    await cluster.stop(1);
    await cluster.stop(2);
    await sleep(LEASE_SECONDS * 1000 + 3000);
    const last = writer.acknowledged.at(-1)?.at ?? cut;
    const lastAfterCut = Math.round(last - cut);
    console.log(`store cut off: last write acknowledged by the old primary ${lastAfterCut} ms after the cut (lease ${LEASE_SECONDS * 1000} ms)`);
    assert.ok(lastAfterCut < LEASE_SECONDS * 1000, `the isolated primary acknowledged a write ${lastAfterCut} ms after the cut`);
    const pid = old.status?.pid ?? assert.fail("pid");
    assert.throws(() => process.kill(pid, 0), "the fenced primary's postmaster is gone");
    await cluster.restart(1);
    await cluster.restart(2);
    const count = writer.acknowledged.length;
    await eventually("writes acknowledged again", () => Promise.resolve(writer.acknowledged.length > count + 20 ? true : undefined), 120_000);
    await writer.stop();
    const lost = await writer.missingOn(uri, "lease_writes");
    console.log(`acknowledged ${writer.acknowledged.length} writes, ${lost.length} missing afterwards`);
    assert.equal(lost.length, 0);
  });
});
