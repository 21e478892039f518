/**
 * Issue 15, done-when 2: a 3-replica MariaDB cluster (topology `replication`) with GTID replication over verified TLS.
 * A row written through the read-write endpoint is read through the read-only endpoint; Switchover with and without
 * a candidate; `kill -9` of the primary's mariadbd under a writer, repeated: writes resume on a new primary (kill →
 * first acknowledged write, median and worst printed), never two writable primaries in any sample, the old primary
 * rejoins as a replica; with `holdfast.io/ha-synchronous: "1"` (semi-synchronous, AFTER_SYNC) no acknowledged commit
 * is lost over repeated failovers. Skips with the reason when mariadbd is not installed.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Cluster, Instance, OpsRequest } from "../../src/api/index.ts";
import { createMariadbEngine } from "../../src/engines/index.ts";
import { clusterCaFile, connectionUri, endpointOf } from "../helpers/clients.ts";
import { eventually, TestServer, type CliResult } from "../helpers/harness.ts";
import { exampleWith } from "../helpers/manifests.ts";
import { MariadbCli, MariadbWriter } from "../helpers/mariadb-cli.ts";

const installed = await createMariadbEngine().detectVersions();
const skip = installed.length === 0 ? "mariadbd is not installed (Debian: apt-get install -y mariadb-server mariadb-client mariadb-backup)" : false;
if (skip !== false) console.log(`# skipped: ${skip}`);
const version = installed[0]?.version ?? "";

const NS = "demo";
const NAME = "mariadb-cluster";
const COMPONENT = "mariadb";
const MEMBERS = [0, 1, 2].map((i) => `${NAME}-${COMPONENT}-${i}`);
const FAILOVER_TRIALS = Number(process.env["MARIADB_FAILOVER_TRIALS"] ?? 5);
const SYNCHRONOUS_TRIALS = Number(process.env["MARIADB_SYNCHRONOUS_TRIALS"] ?? 10);

let server: TestServer;
/** The real mariadb client (passwords in 0600 option files, never argv), TLS checked against the cluster CA. */
let cli: MariadbCli;
let rootPassword = "";

/** The real mariadb client against 127.0.0.1:`port` as `user`, over TLS checked against the cluster CA. */
function mariadb(port: number, sql: string, user = "root", connectTimeoutS = 10, columnNames = false): Promise<CliResult> {
  return cli.run(port, sql, { user, connectTimeoutS, columnNames });
}

/** SHOW SLAVE STATUS of the server on `port`, by column name. */
async function slaveStatus(port: number): Promise<Record<string, string>> {
  const result = await mariadb(port, "SHOW SLAVE STATUS", "root", 10, true);
  assert.equal(result.code, 0, result.stderr);
  const [header = "", row = ""] = result.stdout.split("\n");
  const values = row.split("\t");
  return Object.fromEntries(header.split("\t").map((name, i) => [name, values[i] ?? ""]));
}

function sql(port: number, text: string): Promise<string> {
  return cli.sql(port, text);
}

async function cluster(): Promise<Cluster> {
  return server.api<Cluster>(`/apis/apps.kubeblocks.io/v1/namespaces/${NS}/clusters/${NAME}`);
}

async function instances(): Promise<Instance[]> {
  return Promise.all(MEMBERS.map((name) => server.api<Instance>(`/apis/holdfast.io/v1alpha1/namespaces/${NS}/instances/${name}`)));
}

async function ops(name: string): Promise<OpsRequest> {
  return server.api<OpsRequest>(`/apis/operations.kubeblocks.io/v1alpha1/namespaces/${NS}/opsrequests/${name}`);
}

function currentPrimary(c: Cluster): string | undefined {
  return c.status?.replication?.[COMPONENT]?.currentPrimary;
}

function manifest(annotations: Record<string, string> = {}): Promise<string> {
  return exampleWith("mariadb/cluster.yaml", (doc) => {
    doc["metadata"].annotations = annotations;
    doc["spec"].clusterDef = "mariadb";
    doc["spec"].topology = "replication";
    doc["spec"].componentSpecs[0].replicas = 3;
    doc["spec"].componentSpecs[0].serviceVersion = version;
  });
}

/** The recorded primary ready and writable, both others ready read-only replicas whose IO threads run, listed by the primary. */
async function settled(expected?: string): Promise<Instance> {
  return eventually(`one primary${expected === undefined ? "" : ` (${expected})`} with two replicas streaming from it`, async () => {
    const c = await cluster();
    const record = c.status?.replication?.[COMPONENT];
    const name = record?.currentPrimary;
    if (name === undefined || record?.targetPrimary !== name || (expected !== undefined && name !== expected)) return undefined;
    return followedPrimary(await instances(), name);
  }, 240_000);
}

/** `name` when it is a ready primary, writable, every other member a ready replica streaming from it and listed by it. */
async function followedPrimary(all: readonly Instance[], name: string): Promise<Instance | undefined> {
  const primary = all.find((i) => i.metadata.name === name);
  if (primary?.status?.ready !== true || primary.status.role !== "primary") return undefined;
  const replicas = all.filter((i) => i.metadata.name !== name);
  const following = replicas.every((i) => i.status?.ready === true && i.status.role === "secondary" && i.status.replicationState?.streamingFrom === primary.spec.port);
  if (!following) return undefined;
  const listed = await mariadb(primary.spec.port, "SELECT @@read_only; SHOW SLAVE HOSTS");
  return listed.code === 0 && listed.stdout.split("\n")[0] === "0" && replicas.every((r) => listed.stdout.includes(r.metadata.name)) ? primary : undefined;
}

/** Samples every member about every 200 ms: how many accept writes (answer read_only = 0) at once, at most. */
function startWritableWatcher(ports: readonly number[]): { stop: () => Promise<{ samples: number; most: number }> } {
  let running = true;
  let samples = 0;
  let most = 0;
  const loop = (async () => {
    while (running) {
      const answers = await Promise.all(ports.map(async (port) => (await mariadb(port, "SELECT @@read_only", "root", 1)).stdout.trim() === "0"));
      most = Math.max(most, answers.filter(Boolean).length);
      samples++;
      await sleep(200);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { samples, most };
    },
  };
}

/** Acknowledged ids missing on the server on `port`. */
async function missing(port: number, acknowledged: readonly number[]): Promise<number[]> {
  const stored = new Set((await sql(port, "SELECT id FROM ha.writes")).split("\n").filter((x) => x !== "").map(Number));
  return acknowledged.filter((id) => !stored.has(id));
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

interface FailoverResult {
  from: string;
  to: string;
  resumedMs: number;
  rejoinedMs: number;
  acknowledged: number;
  lost: number;
  mostWritable: number;
  samples: number;
}

/** kill -9 of the primary's mariadbd under a writer through the read-write endpoint; waits until the old primary follows the new one. */
async function failover(rwPort: number, firstId: number): Promise<FailoverResult> {
  const victim = await settled();
  const from = victim.metadata.name;
  const all = await instances();
  const watcher = startWritableWatcher(all.map((i) => i.spec.port));
  const writer = new MariadbWriter(cli, rwPort, firstId);
  await eventually("writes acknowledged", () => Promise.resolve(writer.acknowledged.length >= 20 ? true : undefined), 60_000);
  const victimServerId = writer.acknowledged.at(-1)?.serverId;
  const pid = victim.status?.pid;
  assert.ok(pid !== undefined, "the primary runs");
  const killedAt = performance.now();
  process.kill(pid, "SIGKILL");
  const resumed = await eventually("a write acknowledged by a new primary", () => Promise.resolve(writer.acknowledged.find((a) => a.at > killedAt && a.serverId !== victimServerId)), 120_000);
  const record = await eventually("the failover recorded", async () => {
    const r = (await cluster()).status?.replication?.[COMPONENT];
    return r?.roleChange?.reason === "Failover" && r.roleChange.from === from && r.roleChange.result === "Succeeded" ? r : undefined;
  }, 120_000);
  const to = record.currentPrimary ?? "";
  assert.notEqual(to, from);
  const primary = await settled(to);
  const rejoinedMs = performance.now() - killedAt;
  const acknowledged = await writer.stop();
  const watched = await watcher.stop();
  assert.equal(watched.most, 1, `at most one writable primary in each of ${watched.samples} samples`);
  const lost = await missing(primary.spec.port, acknowledged);
  return { from, to, resumedMs: resumed.at - killedAt, rejoinedMs, acknowledged: acknowledged.length, lost: lost.length, mostWritable: watched.most, samples: watched.samples };
}

/** Apply a Switchover, follow it to Succeed, check the roles moved and no acknowledged write was lost. */
async function switchover(opsName: string, from: string, candidate: string | undefined, rwPort: number, firstId: number): Promise<string> {
  const writer = new MariadbWriter(cli, rwPort, firstId);
  await sleep(500);
  const started = performance.now();
  await server.ok(["apply", "-f", "-"], await exampleWith("postgresql/switchover-specified-instance.yaml", (doc) => {
    doc["metadata"].name = opsName;
    doc["spec"].clusterName = NAME;
    doc["spec"].switchover[0].componentName = COMPONENT;
    doc["spec"].switchover[0].instanceName = from;
    if (candidate === undefined) delete doc["spec"].switchover[0].candidateName;
    else doc["spec"].switchover[0].candidateName = candidate;
  }));
  const done = await eventually(`${opsName} finished`, async () => {
    const o = await ops(opsName);
    return o.status?.phase === "Succeed" || o.status?.phase === "Failed" ? o : undefined;
  }, 180_000);
  const elapsedMs = performance.now() - started;
  assert.equal(done.status?.phase, "Succeed", done.status?.message);
  const to = currentPrimary(await cluster()) ?? "";
  assert.notEqual(to, from);
  if (candidate !== undefined) assert.equal(to, candidate);
  const primary = await settled(to);
  const acknowledged = await writer.stop();
  assert.deepEqual(await missing(primary.spec.port, acknowledged), [], "a switchover loses no acknowledged write");
  console.log(`${opsName}: ${from} → ${to}, Succeed after ${Math.round(elapsedMs)} ms; ${acknowledged.length} writes acknowledged, none lost, ${writer.failures} failed attempts`);
  return to;
}

describe("MariaDB replication with automatic failover", { skip, timeout: 3_600_000 }, () => {
  let rwPort = 0;
  let roPort = 0;
  let nextId = 1;

  before(async () => {
    server = await TestServer.start();
    await server.ok(["create", "namespace", NS]);
    cli = await MariadbCli.create(clusterCaFile(server));
  });

  after(async () => {
    await server.destroy();
    await cli.remove();
  });

  test("3 replicas reach Running: one writable primary, two read-only replicas streaming over TLS, endpoints for both", async () => {
    const started = performance.now();
    await server.ok(["apply", "-f", "-"], await manifest());
    await server.ok(["wait", `cluster/${NAME}`, "-n", NS, "--for=phase=Running", "--timeout=300s"]);
    const uri = new URL(await connectionUri(server, NAME, NS));
    rootPassword = decodeURIComponent(uri.password);
    await cli.setPassword("root", rootPassword);
    const primary = await settled(MEMBERS[0]);
    console.log(`3-replica MariaDB cluster settled after ${Math.round(performance.now() - started)} ms`);
    const c = await cluster();
    rwPort = endpointOf(c, "ReadWrite").port;
    roPort = endpointOf(c, "ReadOnly").port;
    assert.equal(uri.port, String(rwPort), "cluster connect --show-uri uses the read-write endpoint");
    for (const replica of (await instances()).filter((i) => i.metadata.name !== primary.metadata.name)) {
      const status = await slaveStatus(replica.spec.port);
      assert.equal(status["Using_Gtid"], "Slave_Pos");
      assert.equal(status["Master_SSL_Allowed"], "Yes");
      assert.equal(status["Master_SSL_Verify_Server_Cert"], "Yes");
      assert.equal(status["Master_User"], "kbreplicator");
      assert.equal(status["Slave_IO_Running"], "Yes");
      assert.equal(await sql(replica.spec.port, "SELECT @@read_only"), "1");
    }
    const grants = await sql(primary.spec.port, "SHOW GRANTS FOR 'kbreplicator'@'%'");
    assert.match(grants, /^GRANT REPLICATION SLAVE, (BINLOG MONITOR|REPLICATION CLIENT) ON \*\.\* TO `kbreplicator`@`%` IDENTIFIED BY PASSWORD/mu, grants);
  });

  test("a row written through the read-write endpoint is read through the read-only endpoint, which refuses writes", async () => {
    await sql(rwPort, "CREATE DATABASE ha; CREATE TABLE ha.writes (id BIGINT PRIMARY KEY); CREATE TABLE ha.greetings (text VARCHAR(100))");
    await sql(rwPort, "INSERT INTO ha.greetings VALUES ('hello through the endpoint'); CREATE USER app@'%' IDENTIFIED BY 'app-password-1'; GRANT ALL ON ha.* TO app@'%'");
    await cli.setPassword("app", "app-password-1");
    const read = await eventually("the row through the read-only endpoint", async () => {
      const result = await mariadb(roPort, "SELECT text FROM ha.greetings");
      return result.code === 0 && result.stdout.trim() === "hello through the endpoint" ? result : undefined;
    }, 30_000);
    assert.equal(read.code, 0);
    const ports = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const [readOnly, port] = (await sql(roPort, "SELECT @@read_only, @@port")).split("\t");
      assert.equal(readOnly, "1", "the read-only endpoint leads to replicas only");
      ports.add(port ?? "");
    }
    assert.equal(ports.size, 2, "connections are spread over both replicas");
    const [position] = (await sql(rwPort, "SELECT @@gtid_current_pos")).split("\t");
    await eventually("both replicas report the primary's GTID position in their status", async () => {
      const replicas = (await instances()).filter((i) => i.status?.role === "secondary");
      return replicas.length === 2 && replicas.every((i) => i.status?.replicationState?.received === position && i.status?.replicationState?.applied === position) ? true : undefined;
    }, 30_000);
    assert.match(position ?? "", /^0-\d+-\d+$/u);
    const refused = await mariadb(roPort, "INSERT INTO ha.greetings VALUES ('nope')", "app");
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /read-only/);
  });

  test("the replication password is only in the replicas' own 0600 files; the administrator's in none", async () => {
    const secret = async (account: string): Promise<string> => {
      const found = await server.api<{ data: { password: string } }>(`/api/v1/namespaces/${NS}/secrets/${NAME}-${COMPONENT}-account-${account}`);
      return Buffer.from(found.data.password, "base64").toString();
    };
    const replicator = await secret("kbreplicator");
    const root = join(server.home, "instances", NS);
    const holding: string[] = [];
    for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const path = join(entry.parentPath, entry.name);
      const content = await readFile(path).catch(() => Buffer.alloc(0));
      assert.ok(!content.includes(rootPassword), `the administrator's password is in ${path}`);
      if (!content.includes(replicator)) continue;
      holding.push(path.slice(root.length + 1));
      assert.equal((await stat(path)).mode & 0o077, 0, `${path} is private`);
    }
    assert.ok(holding.filter((p) => p.endsWith("/replica-init.sql")).length === 2, `each replica's init file holds it: ${holding.join(", ")}`);
    assert.ok(holding.every((p) => /\/(replica-init\.sql|master\.info)$/u.test(p)), holding.join(", "));
  });

  test("Switchover to a named candidate, then without one, ends Succeed with the roles moved", async () => {
    const first = await switchover("mariadb-switchover-specify", MEMBERS[0] ?? "", MEMBERS[1], rwPort, nextId);
    nextId += 1_000_000;
    await switchover("mariadb-switchover", first, undefined, rwPort, nextId);
    nextId += 1_000_000;
  });

  test(`kill -9 of the primary's mariadbd under writes, ${FAILOVER_TRIALS} trials: writes resume on a new primary, never two writable, the old one rejoins`, async () => {
    const results: FailoverResult[] = [];
    for (let trial = 1; trial <= FAILOVER_TRIALS; trial++) {
      const result = await failover(rwPort, nextId);
      nextId += 1_000_000;
      results.push(result);
      console.log(`  trial ${trial}: ${result.from} → ${result.to}: first acknowledged write ${Math.round(result.resumedMs)} ms after kill -9, old primary replicating again after ${Math.round(result.rejoinedMs)} ms; ${result.acknowledged} acknowledged, ${result.lost} lost (asynchronous); ${result.samples} samples, at most ${result.mostWritable} writable`);
    }
    const resumed = results.map((r) => r.resumedMs);
    console.log(`asynchronous failover, ${FAILOVER_TRIALS} trials: kill -9 → first acknowledged write median ${Math.round(median(resumed))} ms, worst ${Math.round(Math.max(...resumed))} ms`);
  });

  test(`semi-synchronous (holdfast.io/ha-synchronous: "1"), ${SYNCHRONOUS_TRIALS} failovers: no acknowledged commit lost`, async () => {
    await server.ok(["apply", "-f", "-"], await manifest({ "holdfast.io/ha-synchronous": "1" }));
    await eventually("semi-synchronous on every member, the primary with its replicas acknowledging", async () => {
      const primary = await settled();
      // Replicas acknowledge; only the primary waits (a replica waiting would hold its own SQL thread).
      for (const member of await instances()) {
        const expected = member.metadata.name === primary.metadata.name ? "1\t1\tAFTER_SYNC" : "0\t1\tAFTER_SYNC";
        if ((await sql(member.spec.port, "SELECT @@rpl_semi_sync_master_enabled, @@rpl_semi_sync_slave_enabled, @@rpl_semi_sync_master_wait_point")) !== expected) return undefined;
      }
      return (await sql(primary.spec.port, "SHOW STATUS LIKE 'Rpl_semi_sync_master_clients'")) === "Rpl_semi_sync_master_clients\t2" ? true : undefined;
    }, 120_000);
    let acknowledged = 0;
    let lost = 0;
    const resumed: number[] = [];
    for (let trial = 1; trial <= SYNCHRONOUS_TRIALS; trial++) {
      const result = await failover(rwPort, nextId);
      nextId += 1_000_000;
      acknowledged += result.acknowledged;
      lost += result.lost;
      resumed.push(result.resumedMs);
      console.log(`  trial ${trial}: ${result.from} → ${result.to}: ${result.acknowledged} acknowledged, ${result.lost} lost; first acknowledged write ${Math.round(result.resumedMs)} ms after kill -9`);
      assert.equal(result.lost, 0, `trial ${trial}: acknowledged commits missing on ${result.to}`);
    }
    console.log(`semi-synchronous: ${SYNCHRONOUS_TRIALS} failovers, ${acknowledged} commits acknowledged, ${lost} lost; kill -9 → first acknowledged write median ${Math.round(median(resumed))} ms, worst ${Math.round(Math.max(...resumed))} ms`);
  });
});
