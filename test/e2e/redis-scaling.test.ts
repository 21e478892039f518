/**
 * Day-2 operations of a Redis replication cluster, from the upstream examples unchanged:
 *  - HorizontalScaling (issue 10, item 11): scale-out.yaml and scale-in.yaml reach Succeed (a Redis replica is ready
 *    once its master reports it `online`, the engine's answer), and every Sentinel knows the new replica set
 *    (SENTINEL REPLICAS): the added replica, and not the removed one;
 *  - VerticalScaling, Stop, Start and Restart (issue 14, done-when 1): verticalscale.yaml gives the Redis servers the
 *    maxmemory of the new memory limit (CONFIG GET), stop.yaml leaves nothing answering, start.yaml brings the data
 *    back, restart.yaml restarts every Redis server (new pids) with the data kept.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Cluster, Instance, OpsRequest } from "../../src/api/index.ts";
import { installedRedisVersion, redisAt, redisCli, startDemoServer } from "../helpers/clients.ts";
import { eventually, type TestServer } from "../helpers/harness.ts";
import { example, exampleWith } from "../helpers/manifests.ts";

const NS = "demo";
const NAME = "redis-replication";
const member = (ordinal: number): string => `${NAME}-redis-${ordinal}`;
const SENTINELS = [0, 1, 2].map((i) => `${NAME}-redis-sentinel-${i}`);

let server: TestServer;

before(async () => {
  ({ server } = await startDemoServer());
});

after(async () => {
  await server.destroy();
});

async function instances(): Promise<Instance[]> {
  const list = await server.api<{ items: Instance[] }>(`/apis/holdfast.io/v1alpha1/namespaces/${NS}/instances`);
  return list.items.filter((i) => i.spec.clusterName === NAME);
}

async function ops(name: string): Promise<OpsRequest> {
  return server.api<OpsRequest>(`/apis/operations.kubeblocks.io/v1alpha1/namespaces/${NS}/opsrequests/${name}`);
}

async function secret(component: string, account: string): Promise<string> {
  const found = await server.api<{ data: { password: string } }>(`/api/v1/namespaces/${NS}/secrets/${NAME}-${component}-account-${account}`);
  return Buffer.from(found.data.password, "base64").toString();
}

/** The replica ports every Sentinel lists (SENTINEL REPLICAS, through redis-cli), one sorted list per Sentinel. */
async function sentinelReplicaPorts(): Promise<string[][]> {
  const password = await secret("redis-sentinel", "default");
  const all = await instances();
  return Promise.all(
    SENTINELS.map(async (name) => {
      const sentinel = all.find((i) => i.metadata.name === name) ?? assert.fail(`no ${name}`);
      const uri = redisAt(server, "127.0.0.1", sentinel.spec.port, "default", password);
      const result = await redisCli(uri, "SENTINEL", "REPLICAS", `${NAME}-redis`);
      assert.equal(result.code, 0, result.stderr);
      const lines = result.stdout.split("\n").map((l) => l.trim());
      const ports = lines.flatMap((line, i) => (line === "port" ? [lines[i + 1] ?? ""] : []));
      return ports.sort();
    }),
  );
}

/** The ports of the replicas Holdfast runs: members other than the recorded primary. */
async function replicaPorts(count: number): Promise<string[]> {
  return eventually(`${count} Redis instances, one master and ${count - 1} online replicas`, async () => {
    const cluster = await server.api<Cluster>(`/apis/apps.kubeblocks.io/v1/namespaces/${NS}/clusters/${NAME}`);
    const primary = cluster.status?.replication?.["redis"]?.currentPrimary;
    const redis = (await instances()).filter((i) => i.spec.componentName === "redis");
    const replicas = redis.filter((i) => i.metadata.name !== primary);
    const online = replicas.every((i) => i.status?.ready === true && i.status.replication?.state === "online");
    return redis.length === count && online ? replicas.map((i) => String(i.spec.port)).sort() : undefined;
  }, 180_000);
}

async function applyOps(manifest: string, name: string): Promise<{ done: OpsRequest; ms: number }> {
  const started = performance.now();
  await server.ok(["apply", "-f", "-"], manifest);
  const done = await eventually(`${name} finished`, async () => {
    const o = await ops(name);
    return o.status?.phase === "Succeed" || o.status?.phase === "Failed" ? o : undefined;
  }, 300_000);
  return { done, ms: performance.now() - started };
}

async function sentinelsKnow(expected: string[]): Promise<number> {
  const started = performance.now();
  await eventually(`every Sentinel lists exactly the replicas ${expected.join(", ")}`, async () => {
    const seen = await sentinelReplicaPorts();
    return seen.every((ports) => JSON.stringify(ports) === JSON.stringify(expected)) ? seen : undefined;
  }, 120_000);
  return performance.now() - started;
}

/** The master's connection as the administrator (`default`), through its instance port. */
async function master(): Promise<ReturnType<typeof redisAt>> {
  const cluster = await server.api<Cluster>(`/apis/apps.kubeblocks.io/v1/namespaces/${NS}/clusters/${NAME}`);
  const primary = (await instances()).find((i) => i.metadata.name === cluster.status?.replication?.["redis"]?.currentPrimary) ?? assert.fail("no recorded master");
  return redisAt(server, "127.0.0.1", primary.spec.port, "default", await secret("redis", "default"));
}

async function redisOk(...command: string[]): Promise<string> {
  const result = await redisCli(await master(), ...command);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.trim();
}

async function redisPids(): Promise<Map<string, number | undefined>> {
  return new Map((await instances()).filter((i) => i.spec.componentName === "redis").map((i) => [i.metadata.name, i.status?.pid]));
}

describe("Day-2 operations of a Redis replication cluster", { timeout: 1_200_000 }, () => {
  test("the example cluster (2 Redis, 3 Sentinels) runs", async () => {
    const version = await installedRedisVersion();
    await server.ok(["apply", "-f", "-"], await exampleWith("redis/cluster.yaml", (doc) => {
      for (const component of doc["spec"].componentSpecs) component.serviceVersion = version;
    }));
    await server.ok(["wait", `cluster/${NAME}`, "-n", NS, "--for=phase=Running", "--timeout=180s"]);
    await sentinelsKnow(await replicaPorts(2));
  });

  test("scale-out.yaml, unchanged: Succeed, the new replica online and known to every Sentinel", async () => {
    const { done, ms } = await applyOps(await example("redis/scale-out.yaml"), "redis-scale-out");
    assert.equal(done.status?.phase, "Succeed", done.status?.message);
    const ports = await replicaPorts(3);
    assert.ok((await instances()).some((i) => i.metadata.name === member(2)));
    const knownMs = await sentinelsKnow(ports);
    console.log(`Redis scale-out 2 → 3: Succeed after ${Math.round(ms)} ms; every Sentinel lists the new replica ${Math.round(knownMs)} ms later`);
  });

  test("scale-in.yaml, unchanged: Succeed, and every Sentinel forgets the removed replica", async () => {
    const removed = (await instances()).find((i) => i.metadata.name === member(2)) ?? assert.fail("no third instance");
    const { done, ms } = await applyOps(await example("redis/scale-in.yaml"), "redis-scale-in");
    assert.equal(done.status?.phase, "Succeed", done.status?.message);
    const ports = await replicaPorts(2);
    assert.ok(!ports.includes(String(removed.spec.port)));
    const knownMs = await sentinelsKnow(ports);
    console.log(`Redis scale-in 3 → 2: Succeed after ${Math.round(ms)} ms; every Sentinel forgot ${member(2)} ${Math.round(knownMs)} ms later`);
  });

  test("verticalscale.yaml, unchanged: Succeed, every Redis server has the maxmemory of the new 1Gi limit", async () => {
    const { done, ms } = await applyOps(await example("redis/verticalscale.yaml"), "redis-verticalscaling");
    assert.equal(done.status?.phase, "Succeed", done.status?.message);
    await replicaPorts(2);
    const expected = String(Math.floor(1024 * 1024 * 1024 * 0.8));
    for (const i of (await instances()).filter((x) => x.spec.componentName === "redis")) {
      const answer = await redisCli(redisAt(server, "127.0.0.1", i.spec.port, "default", await secret("redis", "default")), "CONFIG", "GET", "maxmemory");
      assert.equal(answer.stdout.trim().split("\n")[1], expected, `${i.metadata.name}: ${answer.stdout}${answer.stderr}`);
    }
    console.log(`Redis verticalscale.yaml: Succeed after ${Math.round(ms)} ms, maxmemory ${expected} on every Redis server`);
  });

  test("stop.yaml, start.yaml and restart.yaml, unchanged: each Succeed and does what it says; the data is kept", async () => {
    await redisOk("SET", "kept", "across-stop-start-restart");
    await redisOk("WAIT", "1", "5000");
    const uri = await master();
    const stopped = await applyOps(await example("redis/stop.yaml"), "redis-stop");
    assert.equal(stopped.done.status?.phase, "Succeed", stopped.done.status?.message);
    await server.ok(["wait", `cluster/${NAME}`, "-n", NS, "--for=phase=Stopped", "--timeout=60s"]);
    const ping = await redisCli(uri, "PING");
    assert.ok(ping.code !== 0 || ping.stdout.trim() !== "PONG", `a stopped cluster's master does not answer: ${ping.stdout}`);

    const started = await applyOps(await example("redis/start.yaml"), "redis-start");
    assert.equal(started.done.status?.phase, "Succeed", started.done.status?.message);
    await server.ok(["wait", `cluster/${NAME}`, "-n", NS, "--for=phase=Running", "--timeout=180s"]);
    await replicaPorts(2);
    assert.equal(await redisOk("GET", "kept"), "across-stop-start-restart", "the data survives stop and start");

    const before = await redisPids();
    const restarted = await applyOps(await example("redis/restart.yaml"), "redis-restart");
    assert.equal(restarted.done.status?.phase, "Succeed", restarted.done.status?.message);
    await replicaPorts(2);
    const after = await redisPids();
    for (const [name, pid] of before) assert.notEqual(after.get(name), pid, `${name} was restarted`);
    assert.equal(await redisOk("GET", "kept"), "across-stop-start-restart", "the data survives the restart");
    console.log(`Redis stop.yaml ${Math.round(stopped.ms)} ms, start.yaml ${Math.round(started.ms)} ms, restart.yaml ${Math.round(restarted.ms)} ms, each Succeed`);
  });
});
