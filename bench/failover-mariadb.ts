/**
 * MariaDB failover (issue 15), a section of `npm run bench -- failover`: the KubeBlocks MariaDB example with 3
 * replicas (topology `replication`, GTID, asynchronous) and a client writing through the read-write endpoint;
 * `kill -9` of the primary's mariadbd → the first write a new primary acknowledged.
 * Floor, in the same run: two mariadbd servers that Holdfast does not manage, a replica promoted by hand
 * (`STOP SLAVE; RESET SLAVE ALL; SET GLOBAL read_only = 0`) until a new client finds it writable.
 * Every write is a new `mariadb` client process (as the tests do), so both figures include one client start.
 */
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Cluster, Instance } from "../src/api/index.ts";
import { createMariadbEngine, generatePassword, type Credentials, type Engine, type EngineReplication, type InstanceContext, type ReplicationCredentials } from "../src/engines/index.ts";
import { askMariadb, followSql, promoteSql, runMariadbScript } from "../src/engines/mariadb/index.ts";
import { clusterCaFile, connectionUri, endpointOf } from "../test/helpers/clients.ts";
import { eventually, TestServer } from "../test/helpers/harness.ts";
import { createTestHostAccess, type TestHostAccess } from "../test/helpers/host-access.ts";
import { exampleWith } from "../test/helpers/manifests.ts";
import { MariadbCli, MariadbWriter } from "../test/helpers/mariadb-cli.ts";
import { instanceContext, removeTree, ServerProcess, traversableTempDir, waitUntil } from "../test/engines/harness.ts";
import { median } from "./stats.ts";
import { Timeline } from "./timeline.ts";

const TRIALS = Number(process.env["BENCH_FAILOVER_TRIALS"] ?? 10);
/** BENCH_FAILOVER_TRACE=1: what the store said during each failover, with its time after the kill. */
const TRACE = process.env["BENCH_FAILOVER_TRACE"] === "1";
const NS = "demo";
const NAME = "mariadb-cluster";
const COMPONENT = "mariadb";

export async function failoverMariadbBenchmark(): Promise<void> {
  const engine = createMariadbEngine();
  const installed = await engine.detectVersions();
  const version = installed[0]?.version;
  if (version === undefined) {
    console.log("\nMariaDB failover: skipped, mariadbd is not installed (Debian: apt-get install -y mariadb-server mariadb-client mariadb-backup)");
    return;
  }
  const failovers = await holdfastFailovers(version);
  const floor = await promotionFloor(engine);
  const line = (values: number[]): string => `median ${median(values).toFixed(0)} ms, worst ${Math.max(...values).toFixed(0)} ms (n=${values.length})`;
  console.log(`\nFailover, MariaDB ${version} example with 3 replicas (GTID, asynchronous), a client writing through the read-write endpoint\n`);
  console.log(`failover (kill -9 primary's mariadbd → first acknowledged write): ${line(failovers)}`);
  console.log(`floor    (STOP SLAVE; RESET SLAVE ALL; SET GLOBAL read_only = 0 by hand → writable to a new client): ${line(floor)}`);
  console.log(`ratio to the floor (medians): ${(median(failovers) / median(floor)).toFixed(1)}x`);
}

async function holdfastFailovers(version: string): Promise<number[]> {
  const server = await TestServer.start();
  const cli = await MariadbCli.create(clusterCaFile(server));
  try {
    await server.ok(["create", "namespace", NS]);
    await server.ok(["apply", "-f", "-"], await exampleWith("mariadb/cluster.yaml", (doc) => {
      doc["spec"].clusterDef = "mariadb";
      doc["spec"].topology = "replication";
      doc["spec"].componentSpecs[0].replicas = 3;
      doc["spec"].componentSpecs[0].serviceVersion = version;
    }));
    await server.ok(["wait", `cluster/${NAME}`, "-n", NS, "--for=phase=Running", "--timeout=300s"]);
    await cli.setPassword("root", decodeURIComponent(new URL(await connectionUri(server, NAME, NS)).password));
    const cluster = await server.api<Cluster>(`/apis/apps.kubeblocks.io/v1/namespaces/${NS}/clusters/${NAME}`);
    const rw = endpointOf(cluster, "ReadWrite").port;
    await eventually("the table created through the read-write endpoint", async () => ((await cli.run(rw, "CREATE DATABASE IF NOT EXISTS ha; CREATE TABLE IF NOT EXISTS ha.writes (id BIGINT PRIMARY KEY)")).code === 0 ? true : undefined), 60_000);
    const results: number[] = [];
    for (let trial = 0; trial < TRIALS; trial++) results.push(await failoverTrial(server, cli, rw, trial * 100_000));
    return results;
  } finally {
    await server.destroy();
    await cli.remove();
  }
}

async function instances(server: TestServer): Promise<Instance[]> {
  return Promise.all([0, 1, 2].map((i) => server.api<Instance>(`/apis/holdfast.io/v1alpha1/namespaces/${NS}/instances/${NAME}-${COMPONENT}-${i}`)));
}

/** The recorded primary, ready, with both other members ready replicas streaming from it. */
async function settled(server: TestServer): Promise<Instance> {
  return eventually("one primary with two replicas streaming from it", async () => {
    const cluster = await server.api<Cluster>(`/apis/apps.kubeblocks.io/v1/namespaces/${NS}/clusters/${NAME}`);
    const record = cluster.status?.replication?.[COMPONENT];
    if (record?.currentPrimary === undefined || record.targetPrimary !== record.currentPrimary) return undefined;
    const all = await instances(server);
    const primary = all.find((i) => i.metadata.name === record.currentPrimary && i.status?.role === "primary" && i.status.ready === true);
    const following = all.filter((i) => i.status?.role === "secondary" && i.status.ready === true && i.status.replicationState?.streamingFrom === primary?.spec.port);
    return primary !== undefined && following.length === 2 ? primary : undefined;
  }, 300_000);
}

/** One kill -9 of the primary under the writer: ms from the kill to the first write a new primary acknowledged. */
async function failoverTrial(server: TestServer, cli: MariadbCli, rw: number, firstId: number): Promise<number> {
  const primary = await settled(server);
  const writer = new MariadbWriter(cli, rw, firstId);
  const timeline = TRACE ? await Timeline.follow(server, [`/apis/apps.kubeblocks.io/v1/namespaces/${NS}/clusters`, `/apis/holdfast.io/v1alpha1/namespaces/${NS}/instances`]) : undefined;
  try {
    await eventually("writes acknowledged", () => Promise.resolve(writer.acknowledged.length >= 20 ? true : undefined), 60_000);
    const killed = writer.acknowledged.at(-1)?.serverId;
    const pid = primary.status?.pid;
    if (pid === undefined) throw new Error(`${primary.metadata.name} has no pid`);
    const killedAt = performance.now();
    process.kill(pid, "SIGKILL");
    const resumed = await eventually("a write acknowledged by a new primary", () => Promise.resolve(writer.acknowledged.find((a) => a.at > killedAt && a.serverId !== killed)), 120_000);
    if (timeline !== undefined) {
      console.log(`trial ${firstId / 100_000}: killed ${primary.metadata.name}; first write acknowledged by a new primary at +${Math.round(resumed.at - killedAt)} ms`);
      for (const line of timeline.since(killedAt)) console.log(`  ${line}`);
    }
    return resumed.at - killedAt;
  } finally {
    timeline?.stop();
    await writer.stop();
  }
}

/** TRIALS promotions by hand of a replica of two unmanaged servers (ms), re-pointed at its primary between trials. */
async function promotionFloor(engine: Engine): Promise<number[]> {
  const host = await createTestHostAccess();
  const root = await traversableTempDir("holdfast-bench-mariadb-floor-");
  const admin: Credentials = { username: "root", password: generatePassword() };
  const credentials: ReplicationCredentials = { admin, replication: { username: "kbreplicator", password: generatePassword() } };
  const servers: ServerProcess[] = [];
  try {
    const [primary, replica] = await unmanagedPair(engine, host, root, credentials, servers);
    const replication = engine.replication as EngineReplication;
    const results: number[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      await eventually("the replica following", async () => ((await replication.probe(replica.port, admin))?.streamingFrom === primary.port ? true : undefined), 60_000);
      const started = performance.now();
      await askMariadb({ port: replica.port }, admin, promoteSql({ mode: "asynchronous" }));
      await waitUntilWritable(replica.port, admin);
      results.push(performance.now() - started);
      await runMariadbScript({ port: replica.port }, admin, `SET GLOBAL read_only = 1;\n${followSql({ upstream: { host: "127.0.0.1", port: primary.port }, account: credentials.replication, caFile: undefined })}`);
    }
    return results;
  } finally {
    for (const server of servers) server.signal("SIGKILL");
    await Promise.all(servers.map((s) => s.exited));
    await removeTree(root);
  }
}

/** A primary and a replica cloned from it, started as the service user by hand (the engine's own steps, no Holdfast). */
async function unmanagedPair(engine: Engine, host: TestHostAccess, root: string, credentials: ReplicationCredentials, servers: ServerProcess[]): Promise<[InstanceContext, InstanceContext]> {
  const replication = engine.replication as EngineReplication;
  const contexts: InstanceContext[] = [];
  for (const i of [0, 1]) {
    const base = await instanceContext(engine, join(root, `m${i}`), engine.parametersFor({ limits: { memory: "256Mi" } }));
    contexts.push({ ...base, instanceName: `floor-${i}`, address: "127.0.0.1", peerAddresses: ["127.0.0.1"] });
  }
  const [primary, replica] = contexts as [InstanceContext, InstanceContext];
  const start = async (context: InstanceContext): Promise<void> => {
    const server = new ServerProcess(host.spawnServer(engine.startCommand(context), context.runDirectory));
    servers.push(server);
    await waitUntil(() => engine.probeReady(context.port, credentials.admin), server, 60_000);
  };
  await engine.initialize(primary, [credentials.admin], host);
  await engine.configure(primary, [credentials.admin], host);
  await replication.configureRole(primary, { role: "primary" }, credentials, host);
  await start(primary);
  await replication.cloneReplica(replica, { host: "127.0.0.1", port: primary.port }, credentials, host);
  await engine.configure(replica, [credentials.admin], host);
  await replication.configureRole(replica, { role: "secondary", upstream: { host: "127.0.0.1", port: primary.port } }, credentials, host);
  await start(replica);
  return [primary, replica];
}

async function waitUntilWritable(port: number, admin: Credentials): Promise<void> {
  for (;;) {
    const rows = await askMariadb({ port }, admin, "SELECT @@read_only").catch(() => []);
    if (rows[0]?.[0] === "0") return;
    await sleep(5);
  }
}
