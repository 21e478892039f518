/**
 * Issue 12, replication across hosts, the Redis part (ADR 0030): three nodes on one etcd, each advertising its own
 * loopback address (127.0.41.1–3), run the KubeBlocks Redis replication example (2 Redis instances, 3 Sentinels) spread
 * over them. Every Redis server and Sentinel listens on its node's address in TLS only (certificates from the cluster
 * CA): the replica's link to its master is up over TLS (`tls-replication yes`), a plain-text client is refused, a TLS
 * client through the read-write endpoint of a node that does not run the master writes on the master, and after
 * `kill -9` of the master the Sentinels fail over over TLS and the old master returns as a replica.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Cluster, ClusterEndpoint, Instance } from "../../src/api/index.ts";
import { respExchange } from "../../src/engines/redis/index.ts";
import { clusterCaFile, installedRedisVersion, redisAt, redisCli, redisConnection, type RedisConnection } from "../helpers/clients.ts";
import { etcdMissing } from "../helpers/etcd.ts";
import { TestNodes } from "../helpers/nodes.ts";
import { eventually, run, type TestServer } from "../helpers/harness.ts";
import { exampleWith } from "../helpers/manifests.ts";

const NS = "demo";
const NAME = "redis-replication";
const NODES = [["rt1", "127.0.41.1"], ["rt2", "127.0.41.2"], ["rt3", "127.0.41.3"]] as const;
const MEMBERS = [0, 1].map((i) => `${NAME}-redis-${i}`);
const SENTINELS = [0, 1, 2].map((i) => `${NAME}-redis-sentinel-${i}`);
const skip = etcdMissing();

const nodes = new TestNodes();

function node(name: string): TestServer {
  return nodes.node(name);
}

/** The first node: the API every check asks (any node would do). */
function via(): TestServer {
  return node(NODES[0][0]);
}

async function cluster(): Promise<Cluster> {
  return via().api<Cluster>(`/apis/apps.kubeblocks.io/v1/namespaces/${NS}/clusters/${NAME}`);
}

async function instance(name: string): Promise<Instance> {
  return via().api<Instance>(`/apis/holdfast.io/v1alpha1/namespaces/${NS}/instances/${name}`);
}

/** The member the cluster's record names master. */
async function currentPrimary(): Promise<string> {
  return (await cluster()).status?.replication?.["redis"]?.currentPrimary ?? assert.fail("a primary is recorded");
}

async function secret(component: string, account: string): Promise<string> {
  const found = await via().api<{ data: { password: string } }>(`/api/v1/namespaces/${NS}/secrets/${NAME}-${component}-account-${account}`);
  return Buffer.from(found.data.password, "base64").toString();
}

function endpointOf(c: Cluster, access: ClusterEndpoint["access"]): ClusterEndpoint {
  return c.status?.endpoints?.find((e) => e.access === access) ?? assert.fail(`no ${access} endpoint in ${JSON.stringify(c.status?.endpoints)}`);
}

/** The administrator of the Redis instances at `host:port`, over TLS checked against the cluster CA. */
async function admin(host: string, port: number): Promise<RedisConnection> {
  return redisAt(via(), host, port, "default", await secret("redis", "default"));
}

/** redis-cli through `connection`; its output, or a failed assertion with its error. */
async function cli(connection: RedisConnection, ...command: string[]): Promise<string> {
  const result = await redisCli(connection, ...command);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.trim();
}

/** The `field:value` of an INFO reply. */
function infoField(info: string, field: string): string | undefined {
  return info.split("\n").find((l) => l.startsWith(`${field}:`))?.slice(field.length + 1).trim();
}

/** Wait until `primary` is the recorded, ready master and the other member a ready replica of it, online. */
async function settled(primary: string): Promise<Instance[]> {
  return eventually(`${primary} master with its replica online`, async () => {
    const record = (await cluster()).status?.replication?.["redis"];
    if (record?.currentPrimary !== primary || record.targetPrimary !== primary) return undefined;
    const all = await Promise.all(MEMBERS.map(instance));
    const ok = all.every((i) => {
      const role = i.metadata.name === primary ? "primary" : "secondary";
      return i.status?.ready === true && i.status.role === role && (role === "primary" || i.status.replication?.state === "online");
    });
    return ok ? all : undefined;
  }, 180_000);
}

/** The node address instance `i` runs on (status.host), checked to be its node's. */
function hostOf(i: Instance): string {
  const address = NODES.find(([name]) => name === i.spec.nodeName)?.[1] ?? assert.fail(`${i.metadata.name} is on no test node`);
  assert.equal(i.status?.host, address, `${i.metadata.name} reports its node's address`);
  return address;
}

/** What answers a plain-text (no TLS) redis-cli PING at host:port: neither PONG nor an authentication error. */
async function plainAnswer(host: string, port: number): Promise<string> {
  const result = await run("redis-cli", ["-h", host, "-p", String(port), "PING"], { timeoutMs: 15_000 });
  return `${result.stdout}${result.stderr}`.trim();
}

/** `connection` on another host (and port). */
function onHost(connection: RedisConnection, host: string, port?: number): RedisConnection {
  const url = new URL(connection.uri);
  url.hostname = host;
  if (port !== undefined) url.port = String(port);
  return { ...connection, uri: url.toString() };
}

/** `former` runs as a replica of `master` over TLS, its link up, and has the write made after the failover. */
async function checkReplicaOf(former: Instance, master: Instance): Promise<void> {
  const connection = await admin(hostOf(former), former.spec.port);
  const info = await cli(connection, "INFO", "replication");
  assert.deepEqual([infoField(info, "role"), infoField(info, "master_host"), infoField(info, "master_link_status")], ["slave", hostOf(master), "up"], info);
  await eventually("the write made after the failover on the old master, now a replica", async () => ((await redisCli(connection, "GET", "after-failover")).stdout.trim() === "yes" ? true : undefined), 15_000);
}

/** Which member the read-write endpoint on `address` leads to: the TLS port of the server, and its role. */
async function behind(uri: RedisConnection, address: string, port: number): Promise<{ port: string | undefined; role: string | undefined }> {
  const through = onHost(uri, address, port);
  const [, tlsPort] = (await cli(through, "CONFIG", "GET", "tls-port")).split("\n");
  return { port: tlsPort, role: infoField(await cli(through, "INFO", "replication"), "role") };
}

describe("Redis and Sentinel on node addresses with TLS", { skip, timeout: 900_000 }, () => {
  let uri: RedisConnection;
  let rw: ClusterEndpoint;

  before(async () => {
    await nodes.start(NODES.map(([name, address]) => ({ name, address })));
    await node(NODES[0][0]).ok(["create", "namespace", NS]);
  });

  after(async () => {
    await nodes.destroy();
  });

  test("the example reaches Running spread over the nodes; the replica's link to its master is up over TLS", async () => {
    const version = await installedRedisVersion();
    const started = performance.now();
    await node("rt2").ok(["apply", "-f", "-"], await exampleWith("redis/cluster.yaml", (doc) => {
      for (const component of doc["spec"].componentSpecs) component.serviceVersion = version;
    }));
    await via().ok(["wait", `cluster/${NAME}`, "-n", NS, "--for=phase=Running", "--timeout=240s"]);
    const primary = (await cluster()).status?.replication?.["redis"]?.currentPrimary ?? assert.fail("a primary is recorded");
    const members = await settled(primary);
    console.log(`Running after ${Math.round(performance.now() - started)} ms: ${(await Promise.all([...MEMBERS, ...SENTINELS].map(instance))).map((i) => `${i.metadata.name} on ${i.status?.host ?? "?"}:${i.spec.port}`).join(", ")}`);
    const [master, replica] = [members.find((i) => i.metadata.name === primary), members.find((i) => i.metadata.name !== primary)];
    assert.ok(master !== undefined && replica !== undefined);
    assert.notEqual(hostOf(master), hostOf(replica), "the two Redis instances run on different nodes");
    const sentinelHosts = new Set((await Promise.all(SENTINELS.map(instance))).map(hostOf));
    assert.equal(sentinelHosts.size, 3, "one Sentinel on each node");

    const info = await cli(await admin(hostOf(replica), replica.spec.port), "INFO", "replication");
    assert.equal(infoField(info, "role"), "slave");
    assert.equal(infoField(info, "master_link_status"), "up", info);
    assert.equal(`${infoField(info, "master_host") ?? ""}:${infoField(info, "master_port") ?? ""}`, `${hostOf(master)}:${master.spec.port}`, "it replicates from the master's node address");
    const masterInfo = await cli(await admin(hostOf(master), master.spec.port), "INFO", "replication");
    assert.ok(masterInfo.includes(`slave0:ip=${hostOf(replica)},port=${replica.spec.port},state=online`), `the master knows its replica by the replica's node address: ${masterInfo}`);
    for (const i of members) {
      const connection = await admin(hostOf(i), i.spec.port);
      assert.equal(await cli(connection, "CONFIG", "GET", "tls-replication"), "tls-replication\nyes");
      assert.equal(await cli(connection, "CONFIG", "GET", "port"), "port\n0", "no plain-text port");
    }
  });

  test("a plain-text client is refused on every Redis server, Sentinel and endpoint address", async () => {
    rw = endpointOf(await cluster(), "ReadWrite");
    const ro = endpointOf(await cluster(), "ReadOnly");
    const targets: [string, number][] = [];
    for (const i of await Promise.all([...MEMBERS, ...SENTINELS].map(instance))) targets.push([hostOf(i), i.spec.port], ["127.0.0.1", i.spec.port]);
    for (const [, address] of NODES) targets.push([address, rw.port], [address, ro.port]);
    for (const [host, port] of targets) {
      const answer = await plainAnswer(host, port);
      assert.doesNotMatch(answer, /PONG|NOAUTH|Authentication/, `${host}:${port} answered plain text: ${answer}`);
    }
  });

  test("a TLS client through the read-write endpoint of every node, those without the master included, writes on the master", async () => {
    uri = await redisConnection(node("rt3"), NAME, NS);
    const shown = new URL(uri.uri);
    assert.deepEqual([shown.protocol, shown.username, shown.hostname, shown.port], ["rediss:", "default", "127.0.41.3", String(rw.port)], "--show-uri gives a rediss:// URI on the address of the node the CLI talks to");
    const primary = (await cluster()).status?.replication?.["redis"]?.currentPrimary ?? "";
    const master = await instance(primary);
    const others = NODES.filter(([, address]) => address !== hostOf(master));
    assert.ok(others.length === 2);
    for (const [name, address] of NODES) {
      assert.deepEqual(await behind(uri, address, rw.port), { port: String(master.spec.port), role: "master" }, `${name}'s read-write endpoint`);
      assert.equal(await cli(onHost(uri, address), "SET", `through-${name}`, address), "OK");
    }
    // Node's own check of the name: the certificate behind any node's endpoint names that node's address.
    const [auth, value] = await respExchange({ host: others[0]?.[1] ?? "", port: rw.port, caFile: clusterCaFile(via()) }, [["AUTH", "default", await secret("redis", "default")], ["GET", `through-${others[0]?.[0] ?? ""}`]], 10_000);
    assert.deepEqual([auth, value], ["OK", others[0]?.[1]]);
  });

  test("the Sentinels name the master by its node address, over TLS", async () => {
    const primary = await instance((await cluster()).status?.replication?.["redis"]?.currentPrimary ?? "");
    const password = await secret("redis-sentinel", "default");
    for (const sentinel of await Promise.all(SENTINELS.map(instance))) {
      const connection = redisAt(via(), hostOf(sentinel), sentinel.spec.port, "default", password);
      assert.equal(await cli(connection, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", `${NAME}-redis`), `${hostOf(primary)}\n${primary.spec.port}`);
      const state = await eventually(`${sentinel.metadata.name}'s report`, async () => {
        const reported = (await instance(sentinel.metadata.name)).status?.arbiterState;
        return reported?.primary === primary.metadata.name && reported.quorum ? reported : undefined;
      }, 30_000);
      assert.equal(state.primaryAddress, `${hostOf(primary)}:${primary.spec.port}`);
    }
  });

  test("kill -9 of the master: the Sentinels fail over, the endpoints follow, the old master returns as a replica over TLS", async () => {
    const from = await currentPrimary();
    const to = MEMBERS.find((m) => m !== from) ?? "";
    const [old, promoted] = await Promise.all([instance(from), instance(to)]);
    const killedAt = performance.now();
    process.kill(old.status?.pid ?? assert.fail("the master runs"), "SIGKILL");
    const otherNode = NODES.find(([, address]) => address !== hostOf(old))?.[1] ?? "";
    const written = await eventually("a write through another node's endpoint after the kill", async () => ((await redisCli(onHost(uri, otherNode), "SET", "after-failover", "yes")).stdout.trim() === "OK" ? performance.now() : undefined), 90_000);
    await settled(to);
    const rejoined = performance.now();
    assert.equal((await cluster()).status?.replication?.["redis"]?.roleChange?.reason, "Failover");
    for (const [, address] of NODES) assert.deepEqual(await behind(uri, address, rw.port), { port: String(promoted.spec.port), role: "master" });
    await checkReplicaOf(old, promoted);
    console.log(`failover ${from} → ${to} over TLS: first write through ${otherNode}'s endpoint ${Math.round(written - killedAt)} ms after kill -9; old master a replica again after ${Math.round(rejoined - killedAt)} ms`);
  });
});
