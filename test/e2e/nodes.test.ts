/**
 * Nodes (ADR 0020): the server's node agent registers its Node and heartbeats; `holdfast get nodes` shows it Ready;
 * new instances are bound to it; an instance made before instances were bound is adopted by the node whose home
 * holds it, without a restart; and a node whose heartbeat stops is marked NotReady, with its instances, while the
 * node that runs now leaves them alone and takes the new ones.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { Instance, Node } from "../../src/api/index.ts";
import { homePaths } from "../../src/config/index.ts";
import { createSecretCodec, loadOrCreateKeyring } from "../../src/security/index.ts";
import { openSqliteStore } from "../../src/store/index.ts";
import { eventually, TestServer } from "../helpers/harness.ts";

let server: TestServer;

before(async () => {
  server = await TestServer.start({ serverArgs: ["--node-name", "alpha"] });
});

after(async () => {
  await server.destroy();
});

const INSTANCES = "/apis/holdfast.io/v1alpha1/namespaces/default/instances";

function instance(name: string): Promise<Instance> {
  return server.api<Instance>(`${INSTANCES}/${name}`);
}

function node(name: string): Promise<Node> {
  return server.api<Node>(`/apis/holdfast.io/v1alpha1/nodes/${name}`);
}

/** `holdfast get nodes` as rows of cells (header first). */
async function nodeRows(): Promise<string[][]> {
  return (await server.ok(["get", "nodes"])).trim().split("\n").map((line) => line.trim().split(/\s{2,}/));
}

/** Simulate a home made before instances were bound to nodes: the instance's spec without nodeName (server stopped). */
async function unbind(name: string): Promise<void> {
  const paths = homePaths(server.home);
  const store = openSqliteStore({ path: paths.store, existing: true, codec: createSecretCodec(await loadOrCreateKeyring(paths.secretKeyring)) });
  try {
    const live = await store.get<Instance>({ kind: "Instance", namespace: "default", name });
    assert.ok(live !== undefined);
    const { nodeName: _bound, ...spec } = live.spec;
    await store.update<Instance>({ ...live, spec });
  } finally {
    store.close();
  }
}

/** The API URL and capacity the heartbeat reports, and describe's view of the heartbeat. */
async function assertNodeDetails(name: string): Promise<void> {
  const status = (await node(name)).status;
  assert.ok(status !== undefined);
  assert.match(status.addresses?.find((a) => a.type === "APIServer")?.address ?? "", /^https:\/\/127\.0\.0\.1:\d+$/);
  assert.ok(status.capacity !== undefined && status.capacity.cpus > 0 && status.capacity.homeDiskBytes > 0);
  assert.match(await server.ok(["describe", "node", name]), /Last Heartbeat:\s+\S+ \(\d+s ago\)/);
}

test("holdfast get nodes shows the one Ready node, and a new cluster's instance is bound to it", async () => {
  const rows = await nodeRows();
  assert.deepEqual(rows[0], ["NAME", "READY", "LEADER", "VERSION", "ADDRESS", "ENGINES", "AGE"]);
  assert.equal(rows.length, 2, rows.join("\n"));
  const [name, ready, leader, version, address, engines] = rows[1] ?? [];
  // On the embedded store the one node holds the controllers' lease.
  assert.deepEqual([name, ready, leader, version, address], ["alpha", "True", "yes", "0.1.0", "127.0.0.1"]);
  assert.match(engines ?? "", /redis \d+\.\d+/);
  await assertNodeDetails("alpha");

  const refused = await server.cli(["delete", "node", "alpha"]);
  assert.notEqual(refused.code, 0, "nodes are written by Holdfast only");
  assert.match(refused.stderr, /nodes are written by the Holdfast control plane only/);

  await server.ok(["cluster", "create", "cache", "--engine", "redis", "-n", "default"]);
  await server.ok(["wait", "cluster/cache", "--for=phase=Running", "--timeout=120s"]);
  assert.equal((await instance("cache-redis-0")).spec.nodeName, "alpha");
});

test("an instance made before instances were bound is adopted by the node whose home holds it, without a restart", async () => {
  const before = await instance("cache-redis-0");
  await server.stop();
  await unbind("cache-redis-0");
  await server.startProcess();
  const adopted = await eventually("cache-redis-0 bound to alpha again", async () => {
    const current = await instance("cache-redis-0");
    return current.spec.nodeName === "alpha" && current.status?.ready === true ? current : undefined;
  });
  assert.equal(adopted.status?.pid, before.status?.pid, "the same process: not restarted");
  assert.equal(adopted.status?.restartCount ?? 0, before.status?.restartCount ?? 0);
  assert.match(await server.ok(["get", "events", "-n", "default"]), /NodeBound\s+instance\/cache-redis-0\s+bound to node alpha/);
});

test("a node whose heartbeat stops goes NotReady, with its instances; the running node leaves them alone and takes new ones", async () => {
  const before = await instance("cache-redis-0");
  // The same home now runs as node beta: alpha's node agent is gone and its heartbeat stops.
  await server.stop();
  server.serverArgs = ["--node-name", "beta"];
  await server.startProcess();
  const restartedAt = Date.now();
  await eventually("alpha NotReady", async () => {
    const rows = await nodeRows();
    const alpha = rows.find((r) => r[0] === "alpha");
    const beta = rows.find((r) => r[0] === "beta");
    return alpha?.[1] === "False" && beta?.[1] === "True" ? rows : undefined;
  }, 60_000);
  const alpha = await node("alpha");
  const notReady = alpha.status?.conditions?.find((c) => c.type === "Ready");
  assert.ok(notReady !== undefined);
  assert.equal(notReady.reason, "NodeStatusUnknown");
  const silentMs = Date.parse(notReady.lastTransitionTime) - Date.parse(alpha.status?.heartbeatTime ?? "");
  console.log(`alpha marked NotReady ${(silentMs / 1000).toFixed(1)} s after its last heartbeat (grace period 20 s), ${((Date.now() - restartedAt) / 1000).toFixed(1)} s after the restart as beta`);
  assert.ok(silentMs >= 20_000, `not before the grace period: ${silentMs} ms`);
  const stranded = await eventually("the instance says its node is not Ready", async () => {
    const current = await instance("cache-redis-0");
    return current.status?.conditions?.some((c) => c.type === "NodeReady" && c.status === "False" && c.reason === "NodeNotReady") === true ? current : undefined;
  });
  assert.equal(stranded.spec.nodeName, "alpha", "never moved");
  assert.equal(stranded.status?.pid, before.status?.pid, "beta's node agent did not touch alpha's instance");
  process.kill(before.status?.pid ?? 0, 0);

  await server.ok(["cluster", "create", "fresh", "--engine", "redis", "-n", "default"]);
  await server.ok(["wait", "cluster/fresh", "--for=phase=Running", "--timeout=120s"]);
  assert.equal((await instance("fresh-redis-0")).spec.nodeName, "beta", "placed on the Ready node");
});
