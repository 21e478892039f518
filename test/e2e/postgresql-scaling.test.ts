/**
 * HorizontalScaling, done-when 6: the example OpsRequests scale a PostgreSQL replication cluster out 2→3 (the new
 * replica is cloned from the primary and streams) and in 3→2 (a replica goes, with its data directory and its
 * replication slot on the primary); a scale-in that would remove the primary switches over first; counts outside
 * the topology's bounds fail with the reason.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import type { Cluster, Instance, OpsRequest } from "../../src/api/index.ts";
import { connectionUri, psql, startDemoServer } from "../helpers/clients.ts";
import { eventually, type TestServer } from "../helpers/harness.ts";
import { exampleWith } from "../helpers/manifests.ts";

const NS = "demo";
const NAME = "pg-cluster";
const member = (ordinal: number): string => `${NAME}-postgresql-${ordinal}`;

let server: TestServer;
let major: string;

before(async () => {
  ({ server, major } = await startDemoServer());
});

after(async () => {
  await server.destroy();
});

async function cluster(): Promise<Cluster> {
  return server.api<Cluster>(`/apis/apps.kubeblocks.io/v1/namespaces/${NS}/clusters/${NAME}`);
}

async function instances(): Promise<Instance[]> {
  const list = await server.api<{ items: Instance[] }>(`/apis/holdfast.io/v1alpha1/namespaces/${NS}/instances`);
  return list.items.filter((i) => i.spec.clusterName === NAME).sort((a, b) => a.spec.ordinal - b.spec.ordinal);
}

async function ops(name: string): Promise<OpsRequest> {
  return server.api<OpsRequest>(`/apis/operations.kubeblocks.io/v1alpha1/namespaces/${NS}/opsrequests/${name}`);
}

async function sql(uri: string, text: string): Promise<string> {
  const result = await psql(uri, text);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.trim();
}

function onPort(uri: string, port: number): string {
  const url = new URL(uri);
  url.port = String(port);
  return url.toString();
}

/** `count` instances: the recorded primary and count-1 streaming replicas, all ready. */
async function settled(count: number): Promise<{ primary: Instance; all: Instance[] }> {
  return eventually(`a primary with ${count - 1} streaming replicas`, async () => {
    const record = (await cluster()).status?.replication?.["postgresql"];
    const all = await instances();
    const primary = all.find((i) => i.metadata.name === record?.currentPrimary && i.status?.role === "primary" && i.status.ready === true);
    const streaming = all.filter((i) => i.status?.role === "secondary" && i.status.ready === true && i.status.replication?.state === "streaming");
    return all.length === count && primary !== undefined && streaming.length === count - 1 && record?.targetPrimary === record?.currentPrimary ? { primary, all } : undefined;
  }, 180_000);
}

/** Apply an OpsRequest manifest and wait until it ends; returns it and how long it took. */
async function run(manifest: string, name: string): Promise<{ done: OpsRequest; ms: number }> {
  const started = performance.now();
  await server.ok(["apply", "-f", "-"], manifest);
  const done = await eventually(`${name} finished`, async () => {
    const o = await ops(name);
    return o.status?.phase === "Succeed" || o.status?.phase === "Failed" ? o : undefined;
  }, 240_000);
  return { done, ms: performance.now() - started };
}

async function slots(uri: string, port: number): Promise<string> {
  return sql(onPort(uri, port), "SELECT coalesce(string_agg(slot_name, ',' ORDER BY slot_name), '') FROM pg_replication_slots");
}

/** The example, renamed, with its change count set. */
function scaling(file: "scale-out" | "scale-in", name: string, change: (entry: Record<string, any>) => void = () => undefined): Promise<string> {
  return exampleWith(`postgresql/${file}.yaml`, (doc) => {
    doc["metadata"].name = name;
    change(doc["spec"].horizontalScaling[0] as Record<string, any>);
  });
}

describe("HorizontalScaling of a PostgreSQL replication cluster", { timeout: 1_200_000 }, () => {
  let uri = "";

  test("the example cluster (2 replicas) runs", async () => {
    await server.ok(["apply", "-f", "-"], await exampleWith("postgresql/cluster.yaml", (doc) => (doc["spec"].componentSpecs[0].serviceVersion = major)));
    await server.ok(["wait", `cluster/${NAME}`, "-n", NS, "--for=phase=Running", "--timeout=180s"]);
    await settled(2);
    uri = await connectionUri(server, NAME, NS);
    await sql(uri, "CREATE TABLE scaled (id int PRIMARY KEY); INSERT INTO scaled SELECT generate_series(1, 1000)");
  });

  test("scale-out.yaml: 2 → 3, the new replica is cloned from the primary and streams", async () => {
    const { done, ms } = await run(await scaling("scale-out", "pg-scale-out"), "pg-scale-out");
    assert.equal(done.status?.phase, "Succeed", done.status?.message);
    assert.equal(done.status.lastConfiguration?.components?.["postgresql"]?.replicas, 2);
    assert.equal((await cluster()).spec.componentSpecs[0]?.replicas, 3);
    const { primary, all } = await settled(3);
    const added = all.find((i) => i.metadata.name === member(2));
    assert.ok(added !== undefined);
    assert.equal(added.status?.role, "secondary");
    assert.equal(await sql(onPort(uri, added.spec.port), "SELECT count(*) FROM scaled"), "1000", "the new replica has the data");
    assert.equal(await sql(onPort(uri, primary.spec.port), "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"), "2");
    console.log(`scale-out 2 → 3: OpsRequest Succeed after ${Math.round(ms)} ms (the new replica cloned and streaming)`);
  });

  test("scale-in.yaml: 3 → 2 removes the highest replica, its data directory and its slot on the primary", async () => {
    const { primary } = await settled(3);
    assert.match(await slots(uri, primary.spec.port), /pg_cluster_postgresql_2/);
    const { done, ms } = await run(await scaling("scale-in", "pg-scale-in"), "pg-scale-in");
    assert.equal(done.status?.phase, "Succeed", done.status?.message);
    await settled(2);
    assert.deepEqual((await instances()).map((i) => i.metadata.name), [member(0), member(1)]);
    await assert.rejects(stat(join(server.home, "instances", NS, member(2))), /ENOENT/, "the data directory is gone");
    const remaining = await eventually("the removed replica's slot dropped", async () => {
      const kept = await slots(uri, primary.spec.port);
      return kept.includes("pg_cluster_postgresql_2") ? undefined : kept;
    }, 90_000);
    assert.equal(remaining, "pg_cluster_postgresql_1");
    console.log(`scale-in 3 → 2: OpsRequest Succeed after ${Math.round(ms)} ms`);
  });

  test("a scale-in that would remove the primary switches over to a replica that stays first", async () => {
    assert.equal((await run(await scaling("scale-out", "pg-scale-out-again"), "pg-scale-out-again")).done.status?.phase, "Succeed");
    await settled(3);
    const switchover = { apiVersion: "operations.kubeblocks.io/v1alpha1", kind: "OpsRequest", metadata: { name: "pg-to-highest", namespace: NS }, spec: { clusterName: NAME, type: "Switchover", switchover: [{ componentName: "postgresql", instanceName: member(0), candidateName: member(2) }] } };
    assert.equal((await run(JSON.stringify(switchover), "pg-to-highest")).done.status?.phase, "Succeed");
    await settled(3);
    const { done, ms } = await run(await scaling("scale-in", "pg-scale-in-primary"), "pg-scale-in-primary");
    assert.equal(done.status?.phase, "Succeed", done.status?.message);
    const { primary } = await settled(2);
    assert.ok([member(0), member(1)].includes(primary.metadata.name), `the primary moved to an instance that stays (${primary.metadata.name})`);
    assert.deepEqual((await instances()).map((i) => i.metadata.name), [member(0), member(1)]);
    assert.equal(await sql(uri, "SELECT count(*) FROM scaled"), "1000");
    const described = await server.ok(["describe", "opsrequest", "pg-scale-in-primary", "-n", NS]);
    assert.match(described, /switching over first/);
    await eventually("no slot for the removed instance on the new primary", async () => ((await slots(uri, primary.spec.port)).includes("pg_cluster_postgresql_2") ? undefined : true), 90_000);
    console.log(`scale-in with the primary on the highest ordinal: switched over to ${primary.metadata.name}, then removed ${member(2)}; Succeed after ${Math.round(ms)} ms`);
  });

  test("counts outside the topology's bounds, and naming instances, fail with the reason and change nothing", async () => {
    const cases: [string, string, RegExp][] = [
      [await scaling("scale-out", "pg-scale-out-too-far", (e) => (e["scaleOut"].replicaChanges = 4)), "pg-scale-out-too-far", /6 replicas is outside what postgresql topology replication allows \(1 to 5\)/],
      [await scaling("scale-in", "pg-scale-in-too-far", (e) => (e["scaleIn"].replicaChanges = 2)), "pg-scale-in-too-far", /0 replicas is outside/],
      [await scaling("scale-in", "pg-scale-in-named", (e) => (e["scaleIn"] = { onlineInstancesToOffline: [member(1)] })), "pg-scale-in-named", /naming instances .* is not supported/],
    ];
    for (const [manifest, name, reason] of cases) {
      const { done } = await run(manifest, name);
      assert.equal(done.status?.phase, "Failed");
      assert.match(done.status.message ?? "", reason);
    }
    assert.equal((await cluster()).spec.componentSpecs[0]?.replicas, 2);
    assert.equal((await instances()).length, 2);
  });
});
