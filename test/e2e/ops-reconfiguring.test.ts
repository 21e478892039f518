/**
 * Reconfiguring (issue 14, done-when 1): the upstream examples applied as given. PostgreSQL's configure.yaml sets
 * max_connections, a static parameter, through the rolling restart (replicas, one switchover, the former primary);
 * a dynamic one (work_mem) is applied live by each node agent, without a restart; reconfig-arhive-command.yaml is
 * refused at admission because Holdfast archives WAL itself; a bad value is refused naming the parameter. Redis'
 * reconfigure-aof.yaml and configure.yaml are applied live with CONFIG SET. Each checked with the engine's own client
 * (SHOW, CONFIG GET) on every instance.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Cluster, Instance, OpsRequest } from "../../src/api/index.ts";
import { connectionUri, installedRedisVersion, psql, redisAt, redisCli, startDemoServer, uriAt } from "../helpers/clients.ts";
import { eventually, type TestServer } from "../helpers/harness.ts";
import { example, exampleWith } from "../helpers/manifests.ts";

const NS = "demo";
const PG = "pg-cluster";
const REDIS = "redis-replication";

let server: TestServer;
let major: string;

before(async () => {
  ({ server, major } = await startDemoServer());
});

after(async () => {
  await server.destroy();
});

async function cluster(name: string): Promise<Cluster> {
  return server.api<Cluster>(`/apis/apps.kubeblocks.io/v1/namespaces/${NS}/clusters/${name}`);
}

async function members(clusterName: string, component: string): Promise<Instance[]> {
  const list = await server.api<{ items: Instance[] }>(`/apis/holdfast.io/v1alpha1/namespaces/${NS}/instances`);
  return list.items.filter((i) => i.spec.clusterName === clusterName && i.spec.componentName === component).sort((a, b) => a.spec.ordinal - b.spec.ordinal);
}

async function ops(name: string): Promise<OpsRequest> {
  return server.api<OpsRequest>(`/apis/operations.kubeblocks.io/v1alpha1/namespaces/${NS}/opsrequests/${name}`);
}

async function applyOps(manifest: string, name: string): Promise<{ done: OpsRequest; ms: number }> {
  const started = performance.now();
  await server.ok(["apply", "-f", "-"], manifest);
  const done = await eventually(`${name} finished`, async () => {
    const o = await ops(name);
    return ["Succeed", "Failed", "Cancelled"].includes(o.status?.phase ?? "") ? o : undefined;
  }, 600_000);
  return { done, ms: performance.now() - started };
}

/** `SHOW name` on every PostgreSQL instance, through psql. */
async function showEverywhere(uri: string, name: string): Promise<string[]> {
  const all = await members(PG, "postgresql");
  return Promise.all(all.map(async (i) => {
    const result = await psql(uriAt(uri, "127.0.0.1", i.spec.port), `SHOW ${name}`);
    assert.equal(result.code, 0, result.stderr);
    return result.stdout.trim();
  }));
}

/** `CONFIG GET name` on every Redis instance, through redis-cli. */
async function configGetEverywhere(name: string): Promise<string[]> {
  const found = await server.api<{ data: { password: string } }>(`/api/v1/namespaces/${NS}/secrets/${REDIS}-redis-account-default`);
  const password = Buffer.from(found.data.password, "base64").toString();
  const all = await members(REDIS, "redis");
  return Promise.all(all.map(async (i) => {
    const result = await redisCli(redisAt(server, "127.0.0.1", i.spec.port, "default", password), "CONFIG", "GET", name);
    assert.equal(result.code, 0, result.stderr);
    return result.stdout.trim().split("\n")[1]?.trim() ?? "";
  }));
}

/** The pid of each instance: the same pids before and after mean no instance was restarted. */
async function pids(clusterName: string, component: string): Promise<(number | undefined)[]> {
  return (await members(clusterName, component)).map((i) => i.status?.pid);
}

async function settled(name: string, component: string, count: number): Promise<void> {
  await eventually(`${name}: every member ready, no role change under way`, async () => {
    const record = (await cluster(name)).status?.replication?.[component];
    if (record?.currentPrimary === undefined || record.targetPrimary !== record.currentPrimary) return undefined;
    const all = await members(name, component);
    return all.length === count && all.every((i) => i.status?.ready === true) ? true : undefined;
  }, 240_000);
}

/** The component's primary moved away from `before` by a switchover. */
async function switchedOverFrom(before: string | undefined): Promise<void> {
  const record = (await cluster(PG)).status?.replication?.["postgresql"];
  assert.notEqual(record?.currentPrimary, before, "the primary was switched over before its restart");
  assert.equal(record?.roleChange?.reason, "Switchover");
}

function reconfiguring(name: string, clusterName: string, component: string, parameters: { key: string; value: string }[]): string {
  return JSON.stringify({ apiVersion: "operations.kubeblocks.io/v1alpha1", kind: "OpsRequest", metadata: { name, namespace: NS }, spec: { type: "Reconfiguring", clusterName, reconfigures: [{ componentName: component, parameters }] } });
}

describe("Reconfiguring PostgreSQL with the upstream examples", { timeout: 1_500_000 }, () => {
  let uri = "";

  test("the example cluster (2 replicas) runs", async () => {
    await server.ok(["apply", "-f", "-"], await exampleWith("postgresql/cluster.yaml", (doc) => {
      doc["spec"].componentSpecs[0].serviceVersion = major;
    }));
    await server.ok(["wait", `cluster/${PG}`, "-n", NS, "--for=phase=Running", "--timeout=240s"]);
    await settled(PG, "postgresql", 2);
    uri = await connectionUri(server, PG, NS);
    assert.deepEqual(await showEverywhere(uri, "max_connections"), ["56", "56"], "sized from the 0.5Gi memory limit");
  });

  test("configure.yaml as given: max_connections (static) 200 on every instance through the rolling restart, one switchover", async () => {
    const before = (await cluster(PG)).status?.replication?.["postgresql"]?.currentPrimary;
    const { done, ms } = await applyOps(await example("postgresql/configure.yaml"), "pg-reconfiguring");
    assert.equal(done.status?.phase, "Succeed", done.status?.message);
    assert.equal(done.status.progress, "2/2");
    await settled(PG, "postgresql", 2);
    assert.deepEqual(await showEverywhere(uri, "max_connections"), ["200", "200"]);
    await switchedOverFrom(before);
    const spec = (await cluster(PG)).spec.componentSpecs[0];
    assert.equal(spec?.configs?.[0]?.variables?.["max_connections"], "200", "the Cluster says what runs");
    console.log(`Reconfiguring max_connections 56 → 200 (static, rolling restart; noisy machine): Succeed after ${Math.round(ms)} ms`);
  });

  test("a dynamic parameter (work_mem) is applied live: every instance shows it and none restarted", async () => {
    const running = await pids(PG, "postgresql");
    const { done } = await applyOps(reconfiguring("pg-work-mem", PG, "postgresql", [{ key: "work_mem", value: "12MB" }]), "pg-work-mem");
    assert.equal(done.status?.phase, "Succeed", done.status?.message);
    assert.deepEqual(await showEverywhere(uri, "work_mem"), ["12MB", "12MB"]);
    assert.deepEqual(await pids(PG, "postgresql"), running, "no instance restarted");
  });

  test("reconfig-arhive-command.yaml is refused at admission: Holdfast archives WAL itself", async () => {
    const result = await server.cli(["apply", "-f", "-"], await example("postgresql/reconfig-arhive-command.yaml"));
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /reconfigures\[0\]\.parameters\[0\]\.value: Invalid value: archive_command: cannot be changed: Holdfast archives WAL itself/);
    assert.equal((await server.fetch(`/apis/operations.kubeblocks.io/v1alpha1/namespaces/${NS}/opsrequests/pg-cluster-reconfigure-archive-command`)).status, 404);
  });

  test("a bad value and an unknown name are refused at admission naming the parameter", async () => {
    const low = await server.cli(["apply", "-f", "-"], reconfiguring("pg-bad", PG, "postgresql", [{ key: "max_connections", value: "5" }]));
    assert.notEqual(low.code, 0);
    assert.match(low.stderr, /max_connections: 5 is below the minimum 10/);
    const unknown = await server.cli(["apply", "-f", "-"], reconfiguring("pg-bad", PG, "postgresql", [{ key: "shared_bufers", value: "1GB" }]));
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /shared_bufers: not a parameter Holdfast lets you set/);
    assert.deepEqual(await showEverywhere(uri, "max_connections"), ["200", "200"], "nothing changed");
  });
});

describe("Reconfiguring Redis with the upstream examples", { timeout: 900_000 }, () => {
  test("the example cluster (2 Redis, 3 Sentinels) runs", async () => {
    const version = await installedRedisVersion();
    await server.ok(["apply", "-f", "-"], await exampleWith("redis/cluster.yaml", (doc) => {
      for (const component of doc["spec"].componentSpecs) component.serviceVersion = version;
    }));
    await server.ok(["wait", `cluster/${REDIS}`, "-n", NS, "--for=phase=Running", "--timeout=240s"]);
    await settled(REDIS, "redis", 2);
    assert.deepEqual(await configGetEverywhere("aof-timestamp-enabled"), ["no", "no"]);
  });

  test("reconfigure-aof.yaml as given: aof-timestamp-enabled yes on every instance, live", async () => {
    const running = await pids(REDIS, "redis");
    const { done, ms } = await applyOps(await example("redis/reconfigure-aof.yaml"), "redis-reconfigure-aof");
    assert.equal(done.status?.phase, "Succeed", done.status?.message);
    assert.deepEqual(await configGetEverywhere("aof-timestamp-enabled"), ["yes", "yes"]);
    assert.deepEqual(await pids(REDIS, "redis"), running, "applied with CONFIG SET, no restart");
    console.log(`Redis reconfigure-aof.yaml: Succeed after ${Math.round(ms)} ms (noisy machine)`);
  });

  test("configure.yaml as given: maxclients 10001 on every instance", async () => {
    const { done } = await applyOps(await example("redis/configure.yaml"), "redis-reconfiguring");
    assert.equal(done.status?.phase, "Succeed", done.status?.message);
    assert.deepEqual(await configGetEverywhere("maxclients"), ["10001", "10001"]);
  });

  test("a bad value is refused at admission naming the parameter", async () => {
    const result = await server.cli(["apply", "-f", "-"], reconfiguring("redis-bad", REDIS, "redis", [{ key: "maxmemory-policy", value: "sometimes" }]));
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /maxmemory-policy: "sometimes" is not one of noeviction/);
  });
});
