/**
 * Failover and switchover, measured through the read-write endpoint while a client keeps writing:
 *  - failover: `kill -9` of the primary's postmaster → the first write acknowledged afterwards;
 *  - switchover: the longest gap between acknowledged writes while a Switchover OpsRequest runs;
 *  - floor, in the same run: `pg_ctl promote -w` on a standby alone (raw tools, no Holdfast);
 *  - synchronous commit (`holdfast.io/ha-synchronous: "1"`), in a second section: the same failovers, every
 *    acknowledged commit looked for on the new primary, and the commit latency against asynchronous replication.
 * BENCH_FAILOVER_TRIALS trials each (default 10); BENCH_FAILOVER_TRACE=1 prints what the store said during each
 * failover, with its time after the kill, and keeps the server's and instances' logs at the end.
 */
import { chmod, chown, cp, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import type { Cluster, Instance, OpsRequest } from "../src/api/index.ts";
import { builtinEngines, EngineCatalog } from "../src/engines/index.ts";
import { ensureServiceUser, type ServiceUser } from "../src/runtime/index.ts";
import { connectionUri, startDemoServer } from "../test/helpers/clients.ts";
import { eventually, run, type TestServer } from "../test/helpers/harness.ts";
import { exampleWith } from "../test/helpers/manifests.ts";
import { failoverMariadbBenchmark } from "./failover-mariadb.ts";
import { median, percentile } from "./stats.ts";
import { Timeline } from "./timeline.ts";

const TRIALS = Number(process.env["BENCH_FAILOVER_TRIALS"] ?? 10);
/** `BENCH_FAILOVER_SECTIONS=synchronous` runs only the synchronous section (default: asynchronous,synchronous,mariadb). */
const TRACE = process.env["BENCH_FAILOVER_TRACE"] === "1";
const SECTIONS = new Set((process.env["BENCH_FAILOVER_SECTIONS"] ?? "asynchronous,synchronous,mariadb").split(","));
const NS = "demo";
const NAME = "pg-cluster";
const MEMBERS = [0, 1, 2].map((i) => `${NAME}-postgresql-${i}`);

export async function failoverBenchmark(): Promise<void> {
  if (SECTIONS.has("asynchronous") || SECTIONS.has("synchronous")) await postgresqlFailovers();
  if (SECTIONS.has("mariadb")) await failoverMariadbBenchmark();
}

async function postgresqlFailovers(): Promise<void> {
  const { server, major } = await startDemoServer();
  let writer: Writer | undefined;
  try {
    await server.ok(["apply", "-f", "-"], await exampleWith("postgresql/cluster.yaml", (doc) => {
      doc["spec"].componentSpecs[0].replicas = 3;
      doc["spec"].componentSpecs[0].serviceVersion = major;
    }));
    await server.ok(["wait", `cluster/${NAME}`, "-n", NS, "--for=phase=Running", "--timeout=180s"]);
    await settled(server);
    if (SECTIONS.has("asynchronous")) {
      writer = await Writer.start(await connectionUri(server, NAME, NS));
      const failovers: number[] = [];
      for (let i = 0; i < TRIALS; i++) failovers.push(await failoverTrial(server, writer));
      const switchovers: number[] = [];
      for (let i = 0; i < TRIALS; i++) switchovers.push(await switchoverTrial(server, writer, i));
      const writes = await writer.stopAndCount();
      writer = undefined;
      const floor = await promoteFloor(TRIALS);
      report(failovers, switchovers, floor, writes);
    }
    if (SECTIONS.has("synchronous")) await synchronousSection(server, major);
    if (TRACE) console.log(`the server's and the instances' logs: ${await keepLogs(server)}`);
  } finally {
    await writer?.stopAndCount();
    await server.destroy();
  }
}

/** Inserts rows one after another through the endpoint, reconnecting after errors; remembers when each was acknowledged. */
class Writer {
  /** Each acknowledged row, when, and which server (its data directory and start time) committed it. */
  readonly acknowledged: { id: number; at: number; server: string }[] = [];
  lastError = "";
  /** Each connection attempt: when it began, and when it connected or failed (ms on the performance clock). */
  readonly connects: { started: number; ended: number; ok: boolean }[] = [];
  #running = true;
  #loop: Promise<void> = Promise.resolve();
  #uri: string;

  private constructor(uri: string) {
    this.#uri = uri;
  }

  static async start(uri: string): Promise<Writer> {
    const client = new pg.Client({ connectionString: uri });
    await client.connect();
    await client.query("CREATE TABLE IF NOT EXISTS bench_writes (id bigint PRIMARY KEY, at timestamptz DEFAULT now())");
    await client.end();
    const writer = new Writer(uri);
    writer.#loop = writer.#run();
    return writer;
  }

  async #run(): Promise<void> {
    let next = 1;
    let client: pg.Client | undefined;
    while (this.#running) {
      try {
        if (!client) {
          client = new pg.Client({ connectionString: this.#uri, connectionTimeoutMillis: 2000, query_timeout: 2000 });
          client.on("error", () => undefined);
          const attempt = { started: performance.now(), ended: 0, ok: false };
          this.connects.push(attempt);
          await client.connect().finally(() => (attempt.ended = performance.now()));
          attempt.ok = true;
        }
        // Every attempt gets a new id: a commit whose answer was lost must not make the next attempt a duplicate.
        const id = next++;
        const result = await client.query<{ server: string }>("INSERT INTO bench_writes (id) VALUES ($1) RETURNING current_setting('data_directory') || ' ' || pg_postmaster_start_time() AS server", [id]);
        this.acknowledged.push({ id, at: performance.now(), server: result.rows[0]?.server ?? "" });
      } catch (error) {
        this.lastError = String(error);
        // Not awaited: ending a connection whose server vanished can hang; the socket is dropped either way.
        void client?.end().catch(() => undefined);
        client = undefined;
        await sleep(5);
      }
    }
    await client?.end().catch(() => undefined);
  }

  /**
   * The first acknowledgement after `t` (ms on the performance clock) by a server other than `notBy`: backends of a
   * killed postmaster may still commit for a moment, which is not the new primary answering.
   */
  async firstAfter(t: number, notBy?: string, timeoutMs = 60_000): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const found = this.acknowledged.find((a) => a.at > t && a.server !== notBy);
      if (found) return found.at;
      if (performance.now() > deadline) throw new Error(`no write was acknowledged within 60 s; last error: ${this.lastError}`);
      await sleep(2);
    }
  }

  /** The longest time without an acknowledgement between `from` and `to`. */
  longestGap(from: number, to: number): number {
    const times = [from, ...this.acknowledged.filter((a) => a.at > from && a.at < to).map((a) => a.at), to];
    let gap = 0;
    for (let i = 1; i < times.length; i++) gap = Math.max(gap, (times[i] ?? 0) - (times[i - 1] ?? 0));
    return gap;
  }

  /** Stop; how many rows were acknowledged, and how many of them the current primary does not have. */
  async stopAndCount(): Promise<{ acknowledged: number; lost: number }> {
    this.#running = false;
    await this.#loop;
    const client = new pg.Client({ connectionString: this.#uri });
    await client.connect();
    const stored = new Set((await client.query<{ id: string }>("SELECT id FROM bench_writes")).rows.map((r) => Number(r.id)));
    await client.end();
    return { acknowledged: this.acknowledged.length, lost: this.acknowledged.filter((a) => !stored.has(a.id)).length };
  }
}

async function instances(server: TestServer): Promise<Instance[]> {
  return Promise.all(MEMBERS.map((name) => server.api<Instance>(`/apis/holdfast.io/v1alpha1/namespaces/${NS}/instances/${name}`)));
}

/**
 * No role change in progress, the cluster's current primary a ready primary, and the two others ready, streaming
 * replicas; returns the primary.
 */
async function settled(server: TestServer): Promise<Instance> {
  return eventually("one primary with two streaming replicas", async () => {
    const cluster = await server.api<Cluster>(`/apis/apps.kubeblocks.io/v1/namespaces/${NS}/clusters/${NAME}`);
    const record = cluster.status?.replication?.["postgresql"];
    if (record?.currentPrimary === undefined || record.targetPrimary !== record.currentPrimary) return undefined;
    const all = await instances(server);
    const primary = all.find((i) => i.metadata.name === record.currentPrimary && i.status?.role === "primary" && i.status.ready === true);
    const replicas = all.filter((i) => i.metadata.name !== record.currentPrimary && i.status?.role === "secondary" && i.status.ready === true && i.status.replication?.state === "streaming");
    return primary !== undefined && replicas.length === 2 ? primary : undefined;
  }, 180_000);
}

async function failoverTrial(server: TestServer, writer: Writer): Promise<number> {
  await settled(server);
  await sleep(500);
  const primary = await settled(server);
  const pid = primary.status?.pid;
  if (pid === undefined) throw new Error(`${primary.metadata.name} has no pid`);
  // The server as the writer knows it (data directory and start time): one restarted in place is another server.
  const killedServer = writer.acknowledged.at(-1)?.server;
  const timeline = TRACE ? await Timeline.follow(server, [`/apis/apps.kubeblocks.io/v1/namespaces/${NS}/clusters`, `/apis/holdfast.io/v1alpha1/namespaces/${NS}/instances`]) : undefined;
  const killed = performance.now();
  try {
    process.kill(pid, "SIGKILL");
  } catch (error) {
    throw new Error(`cannot kill ${primary.metadata.name} (pid ${pid}): ${String(error)}; status ${JSON.stringify(primary.status)}`);
  }
  try {
    const resumed = await writer.firstAfter(killed, killedServer);
    if (timeline !== undefined) {
      await printTimeline(timeline, killed, resumed, writer.connects.filter((c) => c.started >= killed - 50 && c.started <= resumed));
      await printRoutes(server.serverLog, killed);
    }
    return resumed - killed;
  } catch (error) {
    console.error(await diagnosis(server));
    throw error;
  } finally {
    timeline?.stop();
  }
}

async function printTimeline(timeline: Timeline, killed: number, resumed: number, connects: readonly { started: number; ended: number; ok: boolean }[]): Promise<void> {
  await sleep(1000);
  console.log(`failover trace (kill at +0 ms, first acknowledged write at +${(resumed - killed).toFixed(0)} ms):`);
  for (const line of timeline.since(killed)) console.log(`  ${line}`);
  const at = (t: number): string => `+${(t - killed).toFixed(0)}`;
  console.log(`  the writer's connection attempts: ${connects.map((c) => `${at(c.started)}→${at(c.ended)} ${c.ok ? "ok" : "failed"}`).join(", ")}`);
}

/** When the node agent's endpoints were routed (its log, epoch ms) after `killed` (performance clock). */
async function printRoutes(serverLog: string, killed: number): Promise<void> {
  const killedAt = performance.timeOrigin + killed;
  const lines = (await readFile(serverLog, "utf8").catch(() => "")).split("\n");
  for (const line of lines) {
    if (!line.includes('"endpoint routed"')) continue;
    const entry = JSON.parse(line) as { time: number; endpoint: string; to: string[]; hold?: boolean };
    if (entry.time >= killedAt - 50 && entry.time <= killedAt + 5000) console.log(`  +${(entry.time - killedAt).toFixed(0)} ms  the node agent routed ${entry.endpoint} to ${entry.to.join(", ") || "nothing"}${entry.hold === true ? " (holding)" : ""}`);
  }
}

/** What the cluster, its instances and its recent events say, for a trial that did not end. */
async function diagnosis(server: TestServer): Promise<string> {
  const cluster = await server.api<Cluster>(`/apis/apps.kubeblocks.io/v1/namespaces/${NS}/clusters/${NAME}`);
  const lines = [`cluster replication: ${JSON.stringify(cluster.status?.replication)}`];
  for (const instance of await instances(server)) {
    lines.push(`${instance.metadata.name}: spec.replication ${JSON.stringify(instance.spec.replication)} status ${JSON.stringify({ ...instance.status, conditions: undefined })}`);
  }
  const events = await server.cli(["get", "events", "-n", NS]);
  lines.push(events.stdout.split("\n").slice(-40).join("\n"));
  lines.push(`logs kept in ${await keepLogs(server)}`);
  return lines.join("\n");
}

/** The home goes with the server: copy its logs where they can be read afterwards; the directory they are in. */
async function keepLogs(server: TestServer): Promise<string> {
  const kept = await mkdtemp(join(tmpdir(), "holdfast-bench-failover-logs-"));
  await cp(server.serverLog, join(kept, "server-output.log")).catch(() => undefined);
  for (const instance of await instances(server)) {
    const log = instance.status?.logFile;
    if (log !== undefined) await cp(log, join(kept, `${instance.metadata.name}.log`)).catch(() => undefined);
  }
  return kept;
}

async function switchoverTrial(server: TestServer, writer: Writer, trial: number): Promise<number> {
  const primary = await settled(server);
  await sleep(500);
  const name = `bench-switchover-${trial}`;
  const manifest = { apiVersion: "operations.kubeblocks.io/v1alpha1", kind: "OpsRequest", metadata: { name, namespace: NS }, spec: { clusterName: NAME, type: "Switchover", switchover: [{ componentName: "postgresql", instanceName: primary.metadata.name }] } };
  const timeline = TRACE ? await Timeline.follow(server, [`/apis/apps.kubeblocks.io/v1/namespaces/${NS}/clusters`, `/apis/holdfast.io/v1alpha1/namespaces/${NS}/instances`]) : undefined;
  const started = performance.now();
  await server.ok(["apply", "-f", "-"], JSON.stringify(manifest));
  await eventually(`${name} Succeed`, async () => {
    const ops = await server.api<OpsRequest>(`/apis/operations.kubeblocks.io/v1alpha1/namespaces/${NS}/opsrequests/${name}`);
    if (ops.status?.phase === "Failed") throw new Error(`${name} failed: ${JSON.stringify(ops.status)}`);
    return ops.status?.phase === "Succeed" ? true : undefined;
  }, 120_000);
  const ended = performance.now();
  await writer.firstAfter(ended);
  const gap = writer.longestGap(started, performance.now());
  if (timeline !== undefined) {
    await sleep(500);
    timeline.stop();
    const acknowledged = writer.acknowledged.filter((a) => a.at >= started).map((a) => a.at);
    const before = acknowledged.findIndex((at, i) => (acknowledged[i + 1] ?? at) - at >= gap - 1);
    console.log(`switchover trace (OpsRequest applied at +0 ms; the longest gap, ${gap.toFixed(0)} ms, began at +${((acknowledged[before] ?? started) - started).toFixed(0)} ms):`);
    for (const line of timeline.since(started)) console.log(`  ${line}`);
  }
  return gap;
}

/** `pg_ctl promote -w` on a streaming standby made with the raw tools, as the service user. */
async function promoteFloor(trials: number): Promise<number[]> {
  const user = await ensureServiceUser();
  const [version] = await new EngineCatalog(builtinEngines()).versions("postgresql");
  if (!version) throw new Error("PostgreSQL is not installed");
  const binDir = version.binDir;
  const timings: number[] = [];
  for (let i = 0; i < trials; i++) timings.push(await promoteOnce(user, binDir, 19600 + i * 2));
  return timings;
}

async function promoteOnce(user: ServiceUser, binDir: string, port: number): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), "holdfast-floor-"));
  await chown(dir, user.uid, user.gid);
  await chmod(dir, 0o700);
  const primary = join(dir, "primary");
  const standby = join(dir, "standby");
  const pgCtl = join(binDir, "pg_ctl");
  try {
    await asUser(user, join(binDir, "initdb"), ["-D", primary, "-U", "postgres", "--auth=trust"]);
    await asUser(user, pgCtl, ["start", "-w", "-D", primary, "-l", join(dir, "primary.log"), "-o", `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`]);
    await asUser(user, join(binDir, "pg_basebackup"), ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-D", standby, "-R", "-c", "fast", "-X", "stream"]);
    await asUser(user, pgCtl, ["start", "-w", "-D", standby, "-l", join(dir, "standby.log"), "-o", `-p ${port + 1} -k ${dir} -c listen_addresses=127.0.0.1`]);
    const started = performance.now();
    await asUser(user, pgCtl, ["promote", "-w", "-D", standby]);
    return performance.now() - started;
  } finally {
    await run("setpriv", [`--reuid=${user.uid}`, `--regid=${user.gid}`, "--clear-groups", pgCtl, "stop", "-m", "immediate", "-D", standby]);
    await run("setpriv", [`--reuid=${user.uid}`, `--regid=${user.gid}`, "--clear-groups", pgCtl, "stop", "-m", "immediate", "-D", primary]);
    await rm(dir, { recursive: true, force: true });
  }
}

async function asUser(user: ServiceUser, command: string, args: string[]): Promise<void> {
  const result = await run("setpriv", [`--reuid=${user.uid}`, `--regid=${user.gid}`, "--clear-groups", command, ...args]);
  if (result.code !== 0) throw new Error(`${command} failed: ${result.stderr}`);
}

/** Run one statement through `uri`. */
async function execute(uri: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: uri });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** Milliseconds per single-row commit through the read-write endpoint, one after another. */
async function commitLatencies(uri: string, count: number): Promise<number[]> {
  await execute(uri, "CREATE TABLE IF NOT EXISTS bench_latency (id bigserial PRIMARY KEY)");
  const client = new pg.Client({ connectionString: uri });
  await client.connect();
  try {
    const timings: number[] = [];
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      await client.query("INSERT INTO bench_latency DEFAULT VALUES");
      timings.push(performance.now() - started);
    }
    return timings;
  } finally {
    await client.end();
  }
}

/** Turn synchronous commit on (quorum 1 of the two replicas) and wait until the primary has the quorum in force. */
async function enableSynchronous(server: TestServer, major: string, uri: string): Promise<void> {
  await server.ok(["apply", "-f", "-"], await exampleWith("postgresql/cluster.yaml", (doc) => {
    doc["metadata"].annotations = { "holdfast.io/ha-synchronous": "1" };
    doc["spec"].componentSpecs[0].replicas = 3;
    doc["spec"].componentSpecs[0].serviceVersion = major;
  }));
  await eventually("both replicas quorum members", async () => {
    const client = new pg.Client({ connectionString: uri });
    await client.connect();
    try {
      const result = await client.query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_replication WHERE sync_state = 'quorum'");
      return result.rows[0]?.n === "2" ? true : undefined;
    } finally {
      await client.end();
    }
  }, 60_000);
}

/** The synchronous section: commit latency before and after, then the failovers with every acknowledged commit checked. */
async function synchronousSection(server: TestServer, major: string): Promise<void> {
  const uri = await connectionUri(server, NAME, NS);
  await settled(server);
  const asynchronous = await commitLatencies(uri, LATENCY_COMMITS);
  await enableSynchronous(server, major, uri);
  const synchronous = await commitLatencies(uri, LATENCY_COMMITS);
  // The asynchronous section's rows go: this writer counts its ids from 1 again.
  await execute(uri, "DROP TABLE IF EXISTS bench_writes");
  const writer = await Writer.start(uri);
  const failovers: number[] = [];
  try {
    for (let i = 0; i < TRIALS; i++) failovers.push(await failoverTrial(server, writer));
    await settled(server);
  } finally {
    const { acknowledged, lost } = await writer.stopAndCount();
    reportSynchronous(failovers, acknowledged, lost, asynchronous, synchronous);
  }
}

const LATENCY_COMMITS = 500;

function reportSynchronous(failovers: number[], acknowledged: number, lost: number, asynchronous: number[], synchronous: number[]): void {
  const latency = (values: number[]): string => `median ${median(values).toFixed(2)} ms, p99 ${percentile(values, 99).toFixed(2)} ms`;
  console.log(`
Synchronous commit (holdfast.io/ha-synchronous: "1", any 1 of the 2 replicas), same cluster
`);
  console.log(`failover   (kill -9 primary → first acknowledged write): median ${median(failovers).toFixed(0)} ms, worst ${Math.max(...failovers).toFixed(0)} ms (n=${failovers.length})`);
  console.log(`acknowledged commits: ${acknowledged}, missing on the primary afterwards: ${lost}   goal: 0 → ${lost === 0 ? "met" : "NOT met"}`);
  console.log(`commit latency through the endpoint (${LATENCY_COMMITS} single-row commits): asynchronous ${latency(asynchronous)}; synchronous ${latency(synchronous)} (${(median(synchronous) / median(asynchronous)).toFixed(1)}x)`);
}

function report(failovers: number[], switchovers: number[], floor: number[], writes: { acknowledged: number; lost: number }): void {
  const line = (values: number[]): string => `median ${median(values).toFixed(0)} ms, worst ${Math.max(...values).toFixed(0)} ms (n=${values.length})`;
  console.log(`Failover and switchover, PostgreSQL example with 3 replicas, a client writing through the read-write endpoint\n`);
  console.log(`failover   (kill -9 primary → first acknowledged write): ${line(failovers)}   goal: median < 5000 ms → ${median(failovers) < 5000 ? "met" : "NOT met"}`);
  console.log(`switchover (longest gap between acknowledged writes):    ${line(switchovers)}   goal: median < 1000 ms → ${median(switchovers) < 1000 ? "met" : "NOT met"}`);
  console.log(`floor      (pg_ctl promote -w on a standby, raw tools):   ${line(floor)}`);
  console.log(`\nratio to the floor (medians): failover ${(median(failovers) / median(floor)).toFixed(1)}x, switchover ${(median(switchovers) / median(floor)).toFixed(1)}x`);
  console.log(`acknowledged writes missing afterwards (asynchronous replication): ${writes.lost} of ${writes.acknowledged}`);
}
