/**
 * Issue 12, "endpoints everywhere": three nodes on one etcd, each advertising its own loopback address
 * (127.0.10.1–3), serve the read-write and read-only endpoints of a PostgreSQL replication cluster (the KubeBlocks
 * example) on that address, whichever node runs the databases and whichever leads the controllers. psql writes
 * through the read-write endpoint of every node and reads through the read-only endpoint of every node; `kill -9` of
 * the leader's server leaves the other nodes' endpoints answering (a connection made before the kill included); after
 * a switchover the read-write endpoint of every node reaches the new primary.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import type { Cluster, ClusterEndpoint, Instance, OpsRequest } from "../../src/api/index.ts";
import { accepts, connectionUri, endpointOf, installedPostgresMajor, psql, uriAt } from "../helpers/clients.ts";
import { etcdMissing } from "../helpers/etcd.ts";
import { eventually, type TestServer } from "../helpers/harness.ts";
import { exampleWith } from "../helpers/manifests.ts";
import { controllersLeader as leader, TestNodes } from "../helpers/nodes.ts";

const NS = "demo";
const NAME = "pg-cluster";
const NODES = [["ep1", "127.0.10.1"], ["ep2", "127.0.10.2"], ["ep3", "127.0.10.3"]] as const;
const skip = etcdMissing();

const nodes = new TestNodes();

function node(name: string): TestServer {
  return nodes.node(name);
}

function addressOf(name: string): string {
  return NODES.find(([n]) => n === name)?.[1] ?? assert.fail(`no node ${name}`);
}

async function cluster(via: TestServer): Promise<Cluster> {
  return via.api<Cluster>(`/apis/apps.kubeblocks.io/v1/namespaces/${NS}/clusters/${NAME}`);
}

async function instances(via: TestServer): Promise<Instance[]> {
  return (await via.api<{ items: Instance[] }>(`/apis/holdfast.io/v1alpha1/namespaces/${NS}/instances`)).items;
}

/** The primary the cluster's record names. */
async function currentPrimary(via: TestServer): Promise<string> {
  return (await cluster(via)).status?.replication?.["postgresql"]?.currentPrimary ?? assert.fail("a primary is recorded");
}

/** The port instance `name` listens on. */
async function portOf(via: TestServer, name: string | undefined): Promise<number> {
  return (await instances(via)).find((i) => i.metadata.name === name)?.spec.port ?? assert.fail(`no instance ${name ?? ""}`);
}

/** Wait for the OpsRequest `name` to end, and require Succeed. */
async function finished(via: TestServer, name: string): Promise<void> {
  const done = await eventually(`${name} finished`, async () => {
    const o = await via.api<OpsRequest>(`/apis/operations.kubeblocks.io/v1alpha1/namespaces/${NS}/opsrequests/${name}`);
    return o.status?.phase === "Succeed" || o.status?.phase === "Failed" ? o : undefined;
  }, 120_000);
  assert.equal(done.status?.phase, "Succeed", done.status?.message);
}

async function sql(uri: string, text: string): Promise<string> {
  const result = await psql(uri, text);
  assert.equal(result.code, 0, `${uri.replace(/:[^:@/]*@/, ":…@")}: ${result.stderr}`);
  return result.stdout.trim();
}

/** A statement inserting `value` into visits that answers where it was written: `recovery|port` of the server. */
function written(value: string): string {
  return `WITH w AS (INSERT INTO visits VALUES (${value}) RETURNING 1) SELECT pg_is_in_recovery(), inet_server_port() FROM w`;
}

describe("endpoints on every node", { skip, timeout: 900_000 }, () => {
  let uri = "";
  let rw: ClusterEndpoint;
  let ro: ClusterEndpoint;

  before(async () => {
    await nodes.start(NODES.map(([name, address]) => ({ name, address })));
    await node("ep1").ok(["create", "namespace", NS]);
  });

  after(async () => {
    await nodes.destroy();
  });

  test("the PostgreSQL example reaches Running; every node serves its endpoints on its own address, not on 127.0.0.1", async () => {
    const major = await installedPostgresMajor();
    const via = node("ep2");
    await via.ok(["apply", "-f", "-"], await exampleWith("postgresql/cluster.yaml", (doc) => {
      doc["spec"].componentSpecs[0].serviceVersion = major;
      // This file is about endpoints, not failover: a primary lease longer than the test keeps a killed node agent's
      // primary in place (with the default 5 s it is failed over, ADR 0029: test/e2e/host-loss.test.ts covers that).
      doc["metadata"].annotations = { "holdfast.io/ha-lease-seconds": "60" };
    }));
    await via.ok(["wait", `cluster/${NAME}`, "-n", NS, "--for=phase=Running", "--timeout=180s"]);
    const settled = await eventually("a primary and a streaming replica, routed", async () => {
      const c = await cluster(via);
      const routed = c.status?.endpoints?.length === 2 && c.status.endpoints.every((e) => (e.addresses ?? []).length === 1);
      return routed ? c : undefined;
    }, 120_000);
    rw = endpointOf(settled, "ReadWrite");
    ro = endpointOf(settled, "ReadOnly");
    uri = await connectionUri(via, NAME, NS);
    const placed = (await instances(via)).map((i) => `${i.metadata.name} on ${i.spec.nodeName ?? "?"} (${i.status?.host ?? "127.0.0.1"}:${i.spec.port})`);
    console.log(`instances: ${placed.join(", ")}; endpoints ${rw.name}:${rw.port} → ${rw.addresses?.join(",") ?? ""}, ${ro.name}:${ro.port} → ${ro.addresses?.join(",") ?? ""}; leader ${await leader(via) ?? "none"}`);
    for (const [, address] of NODES) {
      await eventually(`the endpoints listening on ${address}`, async () => ((await accepts(address, rw.port)) && (await accepts(address, ro.port)) ? true : undefined), 30_000);
    }
    assert.equal(await accepts("127.0.0.1", rw.port), false, "no node advertises 127.0.0.1: nothing listens there");
  });

  test("psql writes through the read-write endpoint of every node and reads through the read-only endpoint of every node", async () => {
    await sql(uriAt(uri, addressOf("ep1"), rw.port), "CREATE TABLE visits (node text PRIMARY KEY)");
    const primaryPort = await portOf(node("ep1"), rw.targets?.[0]);
    for (const [name, address] of NODES) {
      assert.equal(await sql(uriAt(uri, address, rw.port), written(`'${name}'`)), `f|${primaryPort}`);
    }
    for (const [, address] of NODES) {
      const read = await eventually(`the rows through ${address}'s read-only endpoint`, async () => {
        const result = await psql(uriAt(uri, address, ro.port), "SELECT pg_is_in_recovery(), string_agg(node, ',' ORDER BY node) FROM visits");
        return result.code === 0 && result.stdout.trim() === "t|ep1,ep2,ep3" ? result : undefined;
      }, 15_000);
      assert.equal(read.code, 0);
    }
    const refused = await psql(uriAt(uri, addressOf("ep3"), ro.port), "INSERT INTO visits VALUES ('nope')");
    assert.match(refused.stderr, /read-only transaction/);
  });

  test("kill -9 of the leader's server: the other nodes' endpoints keep answering, open connections included", async () => {
    const was = await eventually("a controllers' leader", () => leader(node("ep2")));
    const primaryPort = await portOf(node("ep2"), rw.targets?.[0]);
    const survivors = NODES.filter(([name]) => name !== was);
    // A connection through a survivor's endpoint, made before the kill.
    const [keptName, keptAddress] = survivors[0] ?? assert.fail("a survivor");
    const kept = new pg.Client({ connectionString: uriAt(uri, keptAddress, rw.port) });
    kept.on("error", () => undefined);
    await kept.connect();
    let killed = false;
    try {
      const killedAt = performance.now();
      await node(was).kill();
      killed = true;
      for (const [name, address] of survivors) {
        assert.equal(await sql(uriAt(uri, address, rw.port), written(`'${name}-after-kill'`)), `f|${primaryPort}`);
        assert.equal(await sql(uriAt(uri, address, ro.port), "SELECT pg_is_in_recovery()"), "t");
      }
      const answeredMs = performance.now() - killedAt;
      await kept.query("INSERT INTO visits VALUES ($1)", [`${keptName}-kept`]);
      const next = await eventually("a new leader", async () => {
        const holder = await leader(node(survivors[0]?.[0] ?? ""));
        return holder !== undefined && holder !== was ? holder : undefined;
      }, 30_000);
      // Still answering once the new leader has taken over (its controllers do not reopen or move anything).
      for (const [, address] of survivors) assert.equal(await sql(uriAt(uri, address, rw.port), "SELECT count(*) > 0 FROM visits"), "t");
      await kept.query("SELECT 1");
      console.log(`leader ${was} killed: writes and reads through ${survivors.map(([n]) => n).join(" and ")} answered within ${Math.round(answeredMs)} ms; ${next} leads after; a connection opened before the kill through ${keptName} kept working`);
    } finally {
      await kept.end().catch(() => undefined);
      // The killed node comes back (its databases never stopped) and serves the endpoints again from the record.
      if (killed) await node(was).startProcess();
    }
    await eventually(`the endpoints of ${was} answering again`, async () => ((await psql(uriAt(uri, addressOf(was), rw.port), "SELECT 1")).stdout.trim() === "1" ? true : undefined), 60_000);
  });

  test("after a switchover the read-write endpoint of every node reaches the new primary", async () => {
    const via = node("ep3");
    const from = await currentPrimary(via);
    const candidate = (await instances(via)).find((i) => i.metadata.name !== from)?.metadata.name ?? assert.fail("a replica");
    const manifest = await exampleWith("postgresql/switchover-specified-instance.yaml", (doc) => {
      doc["spec"].switchover[0].instanceName = from;
      doc["spec"].switchover[0].candidateName = candidate;
    });
    await via.ok(["apply", "-f", "-"], manifest);
    await finished(via, "pg-switchover-specify");
    const finishedAt = performance.now();
    const to = await currentPrimary(via);
    assert.notEqual(to, from);
    const port = await portOf(via, to);
    const took: string[] = [];
    for (const [name, address] of NODES) {
      assert.equal(await sql(uriAt(uri, address, rw.port), written(`'${name}-after-switchover'`)), `f|${port}`, `${name}'s read-write endpoint`);
      took.push(`${name} ${Math.round(performance.now() - finishedAt)} ms`);
    }
    console.log(`switchover ${from} → ${to}: the read-write endpoint of every node wrote on the new primary, one psql after another, after Succeed: ${took.join(", ")}`);
    const c = await cluster(via);
    assert.deepEqual(endpointOf(c, "ReadWrite").targets, [to]);
  });
});
