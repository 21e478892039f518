/**
 * Redis replication with Sentinel, done-when 5: the KubeBlocks Redis example (2 Redis instances, 3 Sentinels)
 * reaches Running with one master, one replica and real `redis-server --sentinel` processes; Switchover with and
 * without a candidate ends Succeed with the roles swapped and the endpoint following; after `kill -9` of the
 * master Sentinel promotes the replica, Holdfast's record, roles, labels and read-write endpoint follow, and the
 * old master comes back as a replica.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Cluster, ClusterEndpoint, Instance, OpsRequest, RoleChange } from "../../src/api/index.ts";
import { respExchange, type RespValue } from "../../src/engines/redis/index.ts";
import { clusterCaFile, installedRedisVersion, redisAt, redisCli, redisConnection, startDemoServer, type RedisConnection } from "../helpers/clients.ts";
import { eventually, type TestServer } from "../helpers/harness.ts";
import { exampleWith } from "../helpers/manifests.ts";

const NS = "demo";
const NAME = "redis-replication";
const MEMBERS = [0, 1].map((i) => `${NAME}-redis-${i}`);
const SENTINELS = [0, 1, 2].map((i) => `${NAME}-redis-sentinel-${i}`);

let server: TestServer;

before(async () => {
  ({ server } = await startDemoServer());
});

after(async () => {
  await server.destroy();
});

async function cluster(): Promise<Cluster> {
  return server.api<Cluster>(`/apis/apps.kubeblocks.io/v1/namespaces/${NS}/clusters/${NAME}`);
}

async function instance(name: string): Promise<Instance> {
  return server.api<Instance>(`/apis/holdfast.io/v1alpha1/namespaces/${NS}/instances/${name}`);
}

async function ops(name: string): Promise<OpsRequest> {
  return server.api<OpsRequest>(`/apis/operations.kubeblocks.io/v1alpha1/namespaces/${NS}/opsrequests/${name}`);
}

async function secret(component: string, account: string): Promise<string> {
  const found = await server.api<{ data: { password: string } }>(`/api/v1/namespaces/${NS}/secrets/${NAME}-${component}-account-${account}`);
  return Buffer.from(found.data.password, "base64").toString();
}

function endpoint(c: Cluster, access: ClusterEndpoint["access"]): ClusterEndpoint {
  const found = c.status?.endpoints?.find((e) => e.access === access);
  assert.ok(found, `no ${access} endpoint in ${JSON.stringify(c.status?.endpoints)}`);
  return found;
}

function onPort(connection: RedisConnection, port: number): RedisConnection {
  const url = new URL(connection.uri);
  url.port = String(port);
  return { ...connection, uri: url.toString() };
}

/** redis-cli through `uri`; its output, or a failed assertion with its error. */
async function cli(uri: RedisConnection, ...command: string[]): Promise<string> {
  const result = await redisCli(uri, ...command);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.trim();
}

/** The `field:value` of an INFO reply. */
function infoField(info: string, field: string): string | undefined {
  const line = info.split("\n").find((l) => l.startsWith(`${field}:`));
  return line?.slice(field.length + 1).trim();
}

/** The columns of `name`'s row in `holdfast cluster list-instances` (NAME ROLE STATUS PORT LAG...). */
function row(table: string, name: string): string[] {
  return table.split("\n").find((l) => l.startsWith(`${name} `))?.trim().split(/\s+/) ?? [];
}

/** Wait until `primary` is the recorded, ready master and every other member a ready replica of it with its link reported. */
async function settled(primary: string): Promise<Instance[]> {
  return eventually(`${primary} master with its replica online`, async () => {
    const record = (await cluster()).status?.replication?.["redis"];
    if (record?.currentPrimary !== primary || record.targetPrimary !== primary) return undefined;
    const all = await Promise.all(MEMBERS.map(instance));
    const ok = all.every((i) => {
      const role = i.metadata.name === primary ? "primary" : "secondary";
      const online = role === "primary" || (i.status?.replication?.state === "online" && typeof i.status.replication.lagBytes === "number");
      return i.status?.ready === true && i.status.role === role && i.metadata.labels?.["kubeblocks.io/role"] === role && online;
    });
    return ok ? all : undefined;
  }, 120_000);
}

/** Where the read-write endpoint leads: the (TLS) port of the server answering, and its role. */
async function behindEndpoint(uri: RedisConnection): Promise<{ port: string | undefined; role: string | undefined }> {
  const [, port] = (await cli(uri, "CONFIG", "GET", "tls-port")).split("\n");
  const replication = await cli(uri, "INFO", "replication");
  return { port, role: infoField(replication, "role") };
}

/** SET through the endpoint on `port` as `password`'s default user, over one fresh connection. */
async function set(port: number, password: string, key: string, value: string): Promise<RespValue | undefined> {
  const [auth, reply] = await respExchange({ host: "127.0.0.1", port, caFile: clusterCaFile(server) }, [["AUTH", "default", password], ["SET", key, value]], 35_000);
  assert.equal(auth, "OK");
  return reply;
}

/** Writes a key through the read-write endpoint every 20 ms until stopped; when each write was acknowledged. */
function startWriter(port: number, password: string): { acks: { id: number; at: number }[]; stop: () => Promise<{ acks: { id: number; at: number }[]; errors: number; longestGapMs: number }> } {
  let running = true;
  let errors = 0;
  const acks: { id: number; at: number }[] = [];
  const loop = (async () => {
    for (let id = 1; running; id++) {
      try {
        const reply = await set(port, password, `w:${id}`, String(id));
        if (reply === "OK") acks.push({ id, at: performance.now() });
        else errors++;
      } catch {
        errors++;
      }
      await sleep(20);
    }
  })();
  return {
    acks,
    async stop() {
      running = false;
      await loop;
      const gaps = acks.slice(1).map((a, i) => a.at - (acks[i]?.at ?? a.at));
      return { acks, errors, longestGapMs: Math.max(0, ...gaps) };
    },
  };
}

/** `holdfast cluster list-instances` shows each instance's role, and the replica's lag. */
async function checkListedRoles(): Promise<void> {
  const listed = await server.ok(["cluster", "list-instances", NAME, "-n", NS]);
  const [primary, replica] = MEMBERS.map((name) => row(listed, name));
  assert.deepEqual([primary?.[1], primary?.[2], primary?.[4]], ["primary", "Running", "-"]);
  assert.deepEqual([replica?.[1], replica?.[2]], ["secondary", "Running"]);
  assert.match(`${replica?.[4] ?? ""} ${replica?.[5] ?? ""}`, /^\d+(\.\d)? (B|KiB|MiB)$/, "the replica's lag is shown");
  for (const name of SENTINELS) assert.deepEqual(row(listed, name).slice(1, 3), ["sentinel", "Running"]);
}

/** Acknowledged writes (`w:<id>`) the read-write endpoint does not return. */
async function missingWrites(uri: RedisConnection, acks: readonly { id: number }[]): Promise<number[]> {
  const missing: number[] = [];
  for (const ack of acks) if ((await cli(uri, "GET", `w:${ack.id}`)) !== String(ack.id)) missing.push(ack.id);
  return missing;
}

/** Apply an OpsRequest and wait until it ends; it, and how long that took. */
async function applyOps(manifest: string, opsName: string): Promise<{ done: OpsRequest; elapsedMs: number }> {
  const started = performance.now();
  await server.ok(["apply", "-f", "-"], manifest);
  const done = await eventually(`${opsName} finished`, async () => {
    const o = await ops(opsName);
    return o.status?.phase === "Succeed" || o.status?.phase === "Failed" ? o : undefined;
  }, 120_000);
  return { done, elapsedMs: performance.now() - started };
}

/** One Sentinel's node agent carried the switchover to `to` out and reported it under the request's id; print its timeline. */
async function checkCarriedOut(opsName: string, to: string, change: RoleChange): Promise<void> {
  const carriers = (await Promise.all(SENTINELS.map(instance))).filter((i) => i.spec.arbiterRequest?.action === "Switchover" && i.status?.arbiterRequest?.id === i.spec.arbiterRequest.id);
  const carrier = carriers.find((i) => i.status?.arbiterRequest?.primary === to);
  const outcome = carrier?.status?.arbiterRequest;
  assert.ok(carrier !== undefined && outcome !== undefined, `a Sentinel's agent reports the switchover to ${to}: ${JSON.stringify(carriers.map((i) => i.status?.arbiterRequest))}`);
  assert.equal(outcome.result, "Succeeded");
  const since = (at: string | undefined): string => `${Date.parse(at ?? "") - Date.parse(change.startedAt)} ms`;
  const steps = `asked ${since(carrier.spec.arbiterRequest?.requestedAt)}, taken up ${since(outcome.startedAt)}, promoting ${since(outcome.promotingAt)}, promoted ${since(outcome.finishedAt)}, recorded ${since(change.finishedAt)}`;
  console.log(`${opsName} timeline from the ops request: ${steps}`);
}

/** Apply a switchover under writes, follow it to Succeed, and check the roles swapped and the endpoint followed. */
async function switchover(manifest: string, opsName: string, from: string, uri: RedisConnection, password: string): Promise<string> {
  const writer = startWriter(Number(new URL(uri.uri).port), password);
  await sleep(300);
  const { done, elapsedMs } = await applyOps(manifest, opsName);
  const writes = await writer.stop();
  assert.equal(done.status?.phase, "Succeed", done.status?.message);
  const record = (await cluster()).status?.replication?.["redis"];
  const to = record?.currentPrimary ?? "";
  assert.ok(to !== from && MEMBERS.includes(to), `the primary moved from ${from} (now ${to})`);
  assert.equal(record?.roleChange?.result, "Succeeded");
  const port = (await settled(to)).find((i) => i.metadata.name === to)?.spec.port;
  assert.deepEqual(await behindEndpoint(uri), { port: String(port), role: "master" }, "the read-write endpoint leads to the new master");
  assert.deepEqual(await missingWrites(uri, writes.acks), [], "every acknowledged write is on the new master");
  await checkCarriedOut(opsName, to, record.roleChange);
  const summary = `${writes.acks.length} acknowledged, ${writes.errors} failed attempts`;
  console.log(`${opsName}: ${from} → ${to}; Succeed after ${Math.round(elapsedMs)} ms; longest gap between acknowledged writes ${Math.round(writes.longestGapMs)} ms (${summary}); ${record.roleChange.message ?? ""}`);
  return to;
}

/** The old master `from` runs as a replica of the port `newPort`, and was started as one (the Sentinels were asked first). */
async function checkRejoined(uri: RedisConnection, from: string, newPort: number): Promise<void> {
  const events = await server.ok(["get", "events", "-n", NS, "-o", "json"]);
  assert.ok(events.includes(`starting as a replica of 127.0.0.1:${newPort}`), "the old master started as a replica");
  const info = await cli(onPort(uri, (await instance(from)).spec.port), "INFO", "replication");
  assert.equal(infoField(info, "role"), "slave");
  assert.equal(infoField(info, "master_port"), String(newPort));
}

describe("Redis replication topology with Sentinel", { timeout: 900_000 }, () => {
  let uri: RedisConnection;
  let roUri: RedisConnection;
  let password = "";

  test("the example reaches Running: one master, one replica, three real Sentinels; roles, labels and endpoints reported", async () => {
    const version = await installedRedisVersion();
    const started = performance.now();
    await server.ok(["apply", "-f", "-"], await exampleWith("redis/cluster.yaml", (doc) => {
      for (const component of doc["spec"].componentSpecs) component.serviceVersion = version;
    }));
    await server.ok(["wait", `cluster/${NAME}`, "-n", NS, "--for=phase=Running", "--timeout=180s"]);
    const runningMs = performance.now() - started;
    await settled(MEMBERS[0] ?? "");
    console.log(`Redis replication cluster Running after ${Math.round(runningMs)} ms; replica online after ${Math.round(performance.now() - started)} ms`);
    const c = await cluster();
    const rw = endpoint(c, "ReadWrite");
    const ro = endpoint(c, "ReadOnly");
    assert.equal(rw.name, `${NAME}-redis`);
    assert.equal(ro.name, `${NAME}-redis-ro`);
    uri = await redisConnection(server, NAME, NS);
    assert.equal(new URL(uri.uri).port, String(rw.port), "cluster connect --show-uri uses the read-write endpoint");
    roUri = onPort(uri, ro.port);
    password = await secret("redis", "default");
    const master = await instance(MEMBERS[0] ?? "");
    const sentinelPassword = await secret("redis-sentinel", "default");
    for (const name of SENTINELS) {
      const sentinel = await instance(name);
      assert.equal(sentinel.status?.role, "sentinel");
      const cmdline = (await readFile(`/proc/${sentinel.status.pid ?? 0}/cmdline`, "utf8")).replaceAll("\u0000", " ");
      assert.match(cmdline, /redis-server .*\[sentinel\]/, `${name} runs redis-server in sentinel mode`);
      const sentinelUri = redisAt(server, "127.0.0.1", sentinel.spec.port, "default", sentinelPassword);
      assert.equal(await cli(sentinelUri, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", `${NAME}-redis`), `127.0.0.1\n${master.spec.port}`);
    }
    await checkListedRoles();
    // Each Sentinel's node agent reports what its Sentinel names; the ha controller decides from these reports alone.
    for (const name of SENTINELS) {
      const state = await eventually(`${name} reports the master`, async () => {
        const reported = (await instance(name)).status?.arbiterState;
        return reported !== undefined && reported.primary === MEMBERS[0] && reported.quorum === true ? reported : undefined;
      }, 30_000);
      assert.equal(state.primaryAddress, `127.0.0.1:${master.spec.port}`);
    }
  });

  test("a key written through the read-write endpoint is read through the read-only endpoint, which refuses writes", async () => {
    assert.equal(await cli(uri, "SET", "greeting", "hello through the endpoint"), "OK");
    await eventually("the key on the replica", async () => ((await redisCli(roUri, "GET", "greeting")).stdout.trim() === "hello through the endpoint" ? true : undefined), 10_000);
    assert.equal(infoField(await cli(roUri, "INFO", "replication"), "role"), "slave");
    const refused = await redisCli(roUri, "SET", "greeting", "nope");
    assert.match(refused.stdout + refused.stderr, /READONLY/);
  });

  test("passwords stay out of argv, and every file the servers and Sentinels wrote is private (umask 077)", async () => {
    const root = join(server.home, "instances", NS);
    const loose: string[] = [];
    for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
      const path = join(entry.parentPath, entry.name);
      if (entry.isFile() && ((await stat(path)).mode & 0o077) !== 0) loose.push(path.slice(root.length + 1));
    }
    assert.deepEqual(loose, [], "no file readable by group or others");
    const secrets = [password, await secret("redis", "replicator"), await secret("redis", "sentinel"), await secret("redis-sentinel", "default")];
    for (const name of [...MEMBERS, ...SENTINELS]) {
      const pid = (await instance(name)).status?.pid ?? 0;
      const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8");
      const environ = await readFile(`/proc/${pid}/environ`, "utf8");
      for (const value of secrets) assert.ok(!cmdline.includes(value) && !environ.includes(value), `no password in the argv or environment of ${name}`);
    }
    for (const log of [server.serverLog, ...(await readdir(join(server.home, "logs"), { recursive: true })).map((f) => join(server.home, "logs", f))]) {
      const text = await readFile(log, "utf8").catch(() => "");
      for (const value of secrets) assert.ok(!text.includes(value), `no password in ${log}`);
    }
    const sentinelConf = await readFile(join(root, SENTINELS[0] ?? "", "run", "sentinel.conf"), "utf8");
    assert.ok(!sentinelConf.includes(password), "the administrator's password is stored only as a hash");
  });

  test("Switchover to a named candidate (the example) ends Succeed with the roles swapped and the endpoint following", async () => {
    const manifest = await exampleWith("redis/switchover-specified-instance.yaml", () => undefined);
    assert.equal(await switchover(manifest, "redis-switchover-specify", MEMBERS[0] ?? "", uri, password), MEMBERS[1]);
  });

  test("Switchover without a candidate (the example, naming the current primary) moves the primary to the replica", async () => {
    const from = (await cluster()).status?.replication?.["redis"]?.currentPrimary ?? "";
    const manifest = await exampleWith("redis/switchover.yaml", (doc) => (doc["spec"].switchover[0].instanceName = from));
    assert.equal(await switchover(manifest, "redis-switchover", from, uri, password), MEMBERS.find((m) => m !== from));
  });

  test("kill -9 of the master: Sentinel promotes the replica, Holdfast follows, the old master returns as a replica", async () => {
    const from = (await cluster()).status?.replication?.["redis"]?.currentPrimary ?? "";
    const to = MEMBERS.find((m) => m !== from) ?? "";
    const pid = (await instance(from)).status?.pid;
    const newPort = (await instance(to)).spec.port;
    assert.ok(pid !== undefined, "the master runs");
    const writer = startWriter(Number(new URL(uri.uri).port), password);
    await sleep(500);
    const killedAt = performance.now();
    process.kill(pid, "SIGKILL");
    const recorded = await eventually("the failover recorded", async () => ((await cluster()).status?.replication?.["redis"]?.currentPrimary === to ? performance.now() : undefined), 60_000);
    const firstWrite = await eventually("a write acknowledged after the kill", () => Promise.resolve(writer.acks.find((a) => a.at > killedAt + 50)?.at), 60_000);
    await settled(to);
    const rejoined = performance.now();
    const writes = await writer.stop();
    const c = await cluster();
    const change = c.status?.replication?.["redis"]?.roleChange;
    assert.deepEqual([change?.reason, change?.from], ["Failover", from]);
    assert.deepEqual(await behindEndpoint(uri), { port: String(newPort), role: "master" }, "the read-write endpoint leads to the new master");
    assert.deepEqual(endpoint(c, "ReadWrite").targets, [to]);
    await checkRejoined(uri, from, newPort);
    assert.equal(await cli(uri, "SET", "after-failover", "written after the failover"), "OK");
    assert.equal(await cli(uri, "GET", "after-failover"), "written after the failover");
    await eventually("the key on the old master, now a replica", async () => ((await redisCli(roUri, "GET", "after-failover")).stdout.trim() === "written after the failover" ? true : undefined), 10_000);
    const lost = (await missingWrites(uri, writes.acks)).length;
    console.log(`failover ${from} → ${to}: recorded in status ${Math.round(recorded - killedAt)} ms after kill -9; first write through the read-write endpoint ${Math.round(firstWrite - killedAt)} ms after; old master a replica again after ${Math.round(rejoined - killedAt)} ms; ${writes.acks.length} writes acknowledged, ${lost} lost (asynchronous replication), ${writes.errors} failed attempts`);
  });

  test("after a control-plane restart the processes are adopted, not restarted, and the endpoints keep their ports", async () => {
    const before = await cluster();
    const pids = await Promise.all([...MEMBERS, ...SENTINELS].map(async (name) => (await instance(name)).status?.pid));
    await server.kill();
    await server.startProcess();
    await eventually("the read-write endpoint answering again", async () => ((await redisCli(uri, "PING")).stdout.trim() === "PONG" ? true : undefined), 60_000);
    const after = await cluster();
    assert.deepEqual(after.status?.endpoints?.map((e) => [e.name, e.port]), before.status?.endpoints?.map((e) => [e.name, e.port]));
    assert.deepEqual(await Promise.all([...MEMBERS, ...SENTINELS].map(async (name) => (await instance(name)).status?.pid)), pids, "every Redis server and Sentinel was adopted");
    assert.equal(await cli(uri, "GET", "after-failover"), "written after the failover");
  });

  test("a Switchover naming an instance that is not the primary fails and changes nothing", async () => {
    const before = (await cluster()).status?.replication?.["redis"]?.currentPrimary;
    const replica = MEMBERS.find((m) => m !== before) ?? "";
    const manifest = await exampleWith("redis/switchover.yaml", (doc) => {
      doc["metadata"].name = "redis-switchover-wrong";
      doc["spec"].switchover[0].instanceName = replica;
    });
    await server.ok(["apply", "-f", "-"], manifest);
    await server.ok(["wait", "opsrequest/redis-switchover-wrong", "-n", NS, "--for=phase=Failed", "--timeout=60s"]);
    assert.match((await ops("redis-switchover-wrong")).status?.message ?? "", /is not the primary/);
    assert.equal((await cluster()).status?.replication?.["redis"]?.currentPrimary, before);
  });
});

