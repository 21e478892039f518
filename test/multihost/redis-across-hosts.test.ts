/**
 * Issue 12, done-when 1 (the Redis half) and a host loss, on a lab of three hosts (network namespaces, ADR 0026): the
 * KubeBlocks Redis replication example with Sentinel, with 3 Redis instances, runs one instance and one Sentinel on
 * each host. Every Redis server listens on its host's address in TLS only: no plain port (`port 0`), the master lists
 * both replicas online by their hosts' addresses (`INFO replication`), a TLS client checking the cluster CA gets
 * answers and a plain-text one nothing. A client inside each host writes through that host's read-write endpoint and
 * reads the write back through another host's. Then every process of the master's host is killed at once
 * (`lab.killHost`: its node, Redis, Sentinel and etcd member): the Sentinels on the two other hosts elect a new master
 * and a write through a surviving host's endpoint is acknowledged (kill → first acknowledged write is printed); the
 * host's return (`lab.restartHost`) brings the old master back as a replica of the new one, over TLS.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Cluster, ClusterEndpoint, Instance } from "../../src/api/index.ts";
import { Lab, type LabHostPlan } from "../../src/lab/index.ts";
import { installedRedisVersion } from "../helpers/clients.ts";
import { eventually } from "../helpers/harness.ts";
import { testLabNetwork } from "../helpers/lab-network.ts";
import { LabHosts } from "../helpers/lab-hosts.ts";
import { labSkipReason } from "../helpers/lab-skip.ts";
import { exampleWith } from "../helpers/manifests.ts";

const NS = "demo";
const NAME = "redis-replication";
const COMPONENT = "redis";
const MEMBERS = [0, 1, 2].map((i) => `${NAME}-redis-${i}`);
const SENTINELS = [0, 1, 2].map((i) => `${NAME}-redis-sentinel-${i}`);

const network = testLabNetwork();
const skip = await labSkipReason(network);

let lab: Lab;
/** Which hosts are down, and each one's read-write endpoint (a rediss:// URI on the host's address). */
let hosts: LabHosts;
let caFile = "";

const host = (name: string | undefined): LabHostPlan => hosts.host(name);
const liveHost = (except?: string): LabHostPlan => hosts.live(except);
const endpoint = (name: string): string => hosts.endpoint(name);

/** The CLI as the administrator through a live host's API; its JSON output. */
async function getJson<T>(args: string[]): Promise<T> {
  const via = liveHost();
  const result = await lab.holdfast(via.name, [...args, "-o", "json"], { timeoutMs: 60_000 });
  if (result.code !== 0) throw new Error(`holdfast ${args.join(" ")} through ${via.name} exited with ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

async function instances(names: readonly string[]): Promise<Instance[]> {
  const list = await getJson<{ items: Instance[] }>(["get", "instances", "-n", NS]);
  return names.map((name) => list.items.find((i) => i.metadata.name === name) ?? assert.fail(`no instance ${name}`));
}

/** `uri` pointed at `address:port` (an instance's own, or another host's endpoint). */
function uriAt(uri: string, address: string, port: number): string {
  const url = new URL(uri);
  url.hostname = address;
  url.port = String(port);
  return url.toString();
}

/** An instance's own address and port, as the administrator (the endpoints' URI carries the `default` account). */
function instanceUri(i: Instance): string {
  return uriAt(endpoint(liveHost().name), i.status?.host ?? assert.fail(`${i.metadata.name} reports its address`), i.spec.port);
}

/** redis-cli inside `from`'s namespace through `uri`, over TLS checked against the cluster CA (or in plain text). */
function redisCliIn(from: LabHostPlan, uri: string, command: string[], tls = true): ReturnType<Lab["exec"]> {
  const transport = tls ? ["--tls", "--cacert", caFile] : [];
  return lab.exec(from.name, ["timeout", "10", "redis-cli", "--no-auth-warning", ...transport, "-u", uri, ...command], { timeoutMs: 15_000 });
}

/** redis-cli over TLS inside `from`; its output, or a failed assertion with its error. */
async function cli(from: LabHostPlan, uri: string, ...command: string[]): Promise<string> {
  const result = await redisCliIn(from, uri, command);
  assert.equal(result.code, 0, `redis-cli ${command.join(" ")} on ${from.name}: ${result.stdout}${result.stderr}`);
  return result.stdout.trim();
}

/** The `field:value` of an INFO reply. */
function infoField(info: string, field: string): string | undefined {
  return info.split("\n").find((l) => l.startsWith(`${field}:`))?.slice(field.length + 1).trim();
}

/** No role change under way: `expected` (or whoever is recorded) a ready master, the two others ready replicas, online. */
async function settled(expected?: string, timeoutMs = 180_000): Promise<{ primary: Instance; all: Instance[] }> {
  return eventually(`${expected ?? "a master"} with two online replicas`, async () => {
    const cluster = await getJson<Cluster>(["get", "cluster", NAME, "-n", NS]).catch(() => undefined);
    const record = cluster?.status?.replication?.[COMPONENT];
    if (record?.currentPrimary === undefined || record.targetPrimary !== record.currentPrimary) return undefined;
    if (expected !== undefined && record.currentPrimary !== expected) return undefined;
    const all = await instances(MEMBERS).catch(() => []);
    const primary = all.find((i) => i.metadata.name === record.currentPrimary && i.status?.role === "primary" && i.status.ready === true);
    const replicas = all.filter((i) => i !== primary && i.status?.role === "secondary" && i.status.ready === true && i.status.replication?.state === "online");
    return primary !== undefined && replicas.length === 2 ? { primary, all } : undefined;
  }, timeoutMs);
}

/** What a plain-text (no TLS) redis-cli PING at `address:port` gets from inside `from`. */
async function plainAnswer(from: LabHostPlan, address: string, port: number): Promise<string> {
  const result = await lab.exec(from.name, ["timeout", "10", "redis-cli", "-h", address, "-p", String(port), "PING"], { timeoutMs: 15_000 });
  return `${result.stdout}${result.stderr}`.trim();
}

/** The cluster's record, the members' states and the last events, for a step that did not finish. */
async function diagnose(): Promise<void> {
  const cluster = await getJson<Cluster>(["get", "cluster", NAME, "-n", NS]).catch(() => undefined);
  console.log(`diagnosis: replication record ${JSON.stringify(cluster?.status?.replication)}`);
  for (const i of await instances([...MEMBERS, ...SENTINELS]).catch(() => [])) {
    console.log(`diagnosis: ${i.metadata.name} on ${String(i.spec.nodeName)}: ${JSON.stringify({ phase: i.status?.phase, role: i.status?.role, ready: i.status?.ready, replication: i.status?.replication, arbiterState: i.status?.arbiterState, message: i.status?.message })}`);
  }
  console.log((await lab.holdfast(liveHost().name, ["get", "events", "-n", NS])).stdout.split("\n").slice(-40).join("\n"));
}

function endpointOf(cluster: Cluster, access: ClusterEndpoint["access"]): ClusterEndpoint {
  return cluster.status?.endpoints?.find((e) => e.access === access) ?? assert.fail(`no ${access} endpoint`);
}

describe("Redis with Sentinel across three lab hosts", { skip, timeout: 900_000 }, () => {
  const home = `/tmp/hf-redis-lab-${process.pid}`;

  before(async () => {
    const started = performance.now();
    lab = await Lab.up({ hosts: 3, home, network: network.number });
    hosts = new LabHosts(lab);
    caFile = join(host(lab.hosts[0]?.name).home, "tls", "ca.crt");
    assert.equal((await lab.holdfast(1, ["create", "namespace", NS])).code, 0);
    const version = await installedRedisVersion();
    const manifest = await exampleWith("redis/cluster.yaml", (doc) => {
      for (const component of doc["spec"].componentSpecs) {
        component.serviceVersion = version;
        if (component.name === COMPONENT) component.replicas = 3;
      }
    });
    const applied = await lab.holdfast(2, ["apply", "-f", "-"], { input: manifest });
    assert.equal(applied.code, 0, applied.stderr);
    const waited = await lab.holdfast(2, ["wait", `cluster/${NAME}`, "-n", NS, "--for=phase=Running", "--timeout=300s"], { timeoutMs: 320_000 });
    assert.equal(waited.code, 0, waited.stderr);
    for (const h of lab.hosts) {
      const shown = await lab.holdfast(h.name, ["cluster", "connect", NAME, "-n", NS, "--show-uri"]);
      assert.equal(shown.code, 0, shown.stderr);
      hosts.endpoints.set(h.name, shown.stdout.trim());
    }
    await settled().catch(async (error: unknown) => {
      await diagnose();
      throw error;
    });
    console.log(`lab up and ${NAME} running with 3 Redis instances and 3 Sentinels in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  });

  after(async () => {
    if (Lab.exists(home)) await Lab.down(home);
  });

  test("one Redis instance and one Sentinel on each host, on its address, replicating over TLS only", async () => {
    const { primary, all } = await settled();
    assert.deepEqual(all.map((i) => i.spec.nodeName).sort(), lab.hosts.map((h) => h.name), "spec.nodeName: one Redis instance on each host");
    const sentinels = await instances(SENTINELS);
    assert.deepEqual(sentinels.map((i) => i.spec.nodeName).sort(), lab.hosts.map((h) => h.name), "one Sentinel on each host");
    for (const i of [...all, ...sentinels]) assert.equal(i.status?.host, host(i.spec.nodeName).address, `${i.metadata.name} listens on its host's address`);
    console.log(`placement: ${[...all, ...sentinels].map((i) => `${i.metadata.name}${i === primary ? " (master)" : ""} on ${String(i.spec.nodeName)} ${String(i.status?.host)}:${i.spec.port}`).join(", ")}`);

    const replicas = all.filter((i) => i !== primary);
    // Asked from another host than the master's: across the lab network.
    const from = liveHost(primary.spec.nodeName);
    const masterInfo = await cli(from, instanceUri(primary), "INFO", "replication");
    console.log(`INFO replication of the master ${primary.metadata.name}, asked from ${from.name}:\n${masterInfo}`);
    assert.equal(infoField(masterInfo, "role"), "master");
    assert.equal(infoField(masterInfo, "connected_slaves"), "2", masterInfo);
    for (const replica of replicas) {
      assert.ok(masterInfo.includes(`:ip=${replica.status?.host ?? "?"},port=${replica.spec.port},state=online,`), `the master lists ${replica.metadata.name} online by its host's address`);
      const info = await cli(host(primary.spec.nodeName), instanceUri(replica), "INFO", "replication");
      assert.deepEqual([infoField(info, "role"), infoField(info, "master_host"), infoField(info, "master_port"), infoField(info, "master_link_status")], ["slave", primary.status?.host, String(primary.spec.port), "up"], info);
    }
    for (const i of all) {
      const asker = liveHost(i.spec.nodeName);
      assert.equal(await cli(asker, instanceUri(i), "CONFIG", "GET", "port"), "port\n0", `${i.metadata.name} has no plain-text port`);
      assert.equal(await cli(asker, instanceUri(i), "CONFIG", "GET", "tls-replication"), "tls-replication\nyes", `${i.metadata.name} replicates over TLS`);
      assert.equal(await cli(asker, instanceUri(i), "PING"), "PONG", "a TLS client checking the cluster CA is answered");
      const plain = await plainAnswer(asker, i.status?.host ?? "", i.spec.port);
      assert.doesNotMatch(plain, /PONG|NOAUTH|Authentication/, `a plain-text client got an answer from ${i.metadata.name}: ${plain}`);
    }
  });

  test("a client on each host writes through that host's read-write endpoint and reads it back through another host's", async () => {
    const { primary } = await settled();
    const rw = endpointOf(await getJson<Cluster>(["get", "cluster", NAME, "-n", NS]), "ReadWrite");
    for (const [i, h] of lab.hosts.entries()) {
      const uri = endpoint(h.name);
      assert.deepEqual([new URL(uri).protocol, new URL(uri).hostname, new URL(uri).port], ["rediss:", h.address, String(rw.port)], "--show-uri: rediss:// on the address of the host the CLI talks to");
      assert.equal(infoField(await cli(h, uri, "INFO", "replication"), "role"), "master", `${h.name}'s read-write endpoint leads to the master`);
      assert.equal(await cli(h, uri, "CONFIG", "GET", "tls-port"), `tls-port\n${primary.spec.port}`, `${h.name}'s read-write endpoint leads to ${primary.metadata.name}`);
      assert.equal(await cli(h, uri, "SET", `written-on-${h.name}`, h.address), "OK");
      const other = lab.hosts[(i + 1) % lab.hosts.length] ?? assert.fail("another host");
      assert.equal(await cli(other, endpoint(other.name), "GET", `written-on-${h.name}`), h.address, `read back on ${other.name} through its endpoint`);
      console.log(`SET through ${h.name}'s read-write endpoint (${new URL(uri).host}), GET through ${other.name}'s: the master ${primary.metadata.name} on ${String(primary.spec.nodeName)}`);
    }
  });

  test("host loss of the master's host: the Sentinels on the other hosts elect a new master, writes resume through a surviving host's endpoint, and the old master returns as a replica", async () => {
    const { primary } = await settled();
    const lost = host(primary.spec.nodeName);
    const writerHost = liveHost(lost.name);
    assert.equal(await cli(writerHost, endpoint(writerHost.name), "SET", "before-host-loss", "yes"), "OK");
    const killedAt = performance.now();
    hosts.down.add(lost.name);
    const killed = await lab.killHost(lost.name);
    let attempts = 0;
    const written = await eventually(`a write through ${writerHost.name}'s endpoint after the loss of ${lost.name}`, async () => {
      attempts++;
      const result = await redisCliIn(writerHost, endpoint(writerHost.name), ["SET", "after-host-loss", "yes"]);
      return result.stdout.trim() === "OK" ? performance.now() : undefined;
    }, 120_000).catch(async (error: unknown) => {
      await diagnose();
      throw error;
    });
    console.log(`host loss: ${lost.name} killed (${killed.length} processes) with the master ${primary.metadata.name}; first write acknowledged through ${writerHost.name}'s endpoint ${Math.round(written - killedAt)} ms after the kill (${attempts} attempts)`);

    const cluster = await getJson<Cluster>(["get", "cluster", NAME, "-n", NS]);
    const record = cluster.status?.replication?.[COMPONENT];
    assert.notEqual(record?.currentPrimary, primary.metadata.name, "a new master is recorded");
    assert.equal(record?.roleChange?.reason, "Failover");
    const promoted = (await instances(MEMBERS)).find((i) => i.metadata.name === record.currentPrimary) ?? assert.fail("the new master");
    assert.notEqual(promoted.spec.nodeName, lost.name);
    for (const h of lab.hosts.filter((x) => x !== lost)) {
      assert.equal(infoField(await cli(h, endpoint(h.name), "INFO", "replication"), "role"), "master", `${h.name}'s endpoint leads to the new master`);
      assert.equal(await cli(h, endpoint(h.name), "GET", "before-host-loss"), "yes", "the new master has the write made before the loss");
    }

    await lab.restartHost(lost.name);
    hosts.down.delete(lost.name);
    const restartedAt = performance.now();
    await settled(promoted.metadata.name).catch(async (error: unknown) => {
      await diagnose();
      throw error;
    });
    console.log(`${lost.name} restarted; ${primary.metadata.name} an online replica of ${promoted.metadata.name} ${Math.round(performance.now() - restartedAt)} ms later`);
    const [former] = await instances([primary.metadata.name]);
    assert.ok(former !== undefined);
    const info = await cli(writerHost, instanceUri(former), "INFO", "replication");
    assert.deepEqual([infoField(info, "role"), infoField(info, "master_host"), infoField(info, "master_link_status")], ["slave", promoted.status?.host, "up"], info);
    await eventually("the write made after the loss on the old master, now a replica", async () => ((await redisCliIn(writerHost, instanceUri(former), ["GET", "after-host-loss"])).stdout.trim() === "yes" ? true : undefined), 30_000);
  });
});
