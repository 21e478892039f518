/**
 * Backup and restore throughput on a pgbench database (scale BENCH_PGBENCH_SCALE, default 50), side by side in one
 * run on the same disk:
 * - Holdfast through its real paths: a Backup object taken by the pg-basebackup method through the backup writer
 *   (zstd, AES-256-GCM, SHA-256 per chunk) into the local repository, and a restore into a new cluster through the
 *   instance controller's restorer, timed until the restored cluster answers its first query;
 * - the raw tool on the instance's own port (not the endpoint proxy): `pg_basebackup -c fast -Ft -X fetch -D -` into
 *   a file (fsync at the end), and `tar -x` of that file;
 * - pgBackRest (bench/pgbackrest.ts; installed from Debian when root, else skipped with the reason): full and incr
 *   with process-max 1 and 2, zst + aes-256-cbc, restore + start until the first query.
 * The incremental backups (Holdfast: a Backup with parentBackupName, on the trial's full) follow an update of 5% of
 * pgbench_accounts' rows (a contiguous aid range). Peak memory is
 * the RSS high-water mark of the process doing the work: Holdfast's backup process (ADR 0044; its BackupProcess event)
 * and restore process (ADR 0050; the Restored condition), with the server's own VmHWM beside them, and pgbackrest
 * with its worker processes. BENCH_BACKUP_TRIALS trials (default 2);
 * BENCH_BACKUP_SECTIONS=mariadb runs MariaDB's section alone; BENCH_BACKUP_ADDRESS=127.0.x.y puts the server there; BENCH_BACKUP_LARGE_SCALE=200 adds a pass that grows the database to that scale and measures Holdfast's peak memory
 * of a backup and a restore there.
 */
import { spawn } from "node:child_process";
import { constants, createWriteStream } from "node:fs";
import { mkdir, mkdtemp, open, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { accountSecretName, CLUSTER_SNAPSHOT_ANNOTATION, type Backup, type Cluster, type Instance } from "../src/api/index.ts";
import { restoredClusterManifest } from "../src/cli/cluster-restore.ts";
import { connectionUri, installedPostgresMajor, psql, startDemoServer } from "../test/helpers/clients.ts";
import { childProcesses } from "../test/helpers/child-processes.ts";
import { eventually, run, TestServer } from "../test/helpers/harness.ts";
import { postgresExample } from "../test/helpers/manifests.ts";
import { mariadbBackupBenchmark } from "./mariadb-backup.ts";
import { mib, MIB, ownProcessPeak, peakOf, resetPeak, residentParts } from "./peak-memory.ts";
import { PgBackRestBench, pgbackrestUnavailable, type Measured } from "./pgbackrest.ts";
import { median } from "./stats.ts";

const SCALE = Number(process.env["BENCH_PGBENCH_SCALE"] ?? 50);
const TRIALS = Number(process.env["BENCH_BACKUP_TRIALS"] ?? 2);
const LARGE_SCALE = Number(process.env["BENCH_BACKUP_LARGE_SCALE"] ?? 0);
const NS = "demo";
const MB = 1_000_000;
const DP = `/apis/dataprotection.kubeblocks.io/v1alpha1/namespaces/${NS}`;
const INSTANCE = "pg-cluster-postgresql-0";
/** Peak memory bound of a backup and of a restore, whatever the database's size. */
const MEMORY_GOAL = 256 * MIB;

/** How to reach the database with the raw tools: loopback TCP, the password in a 0600 passfile. */
interface Connection {
  host: string;
  port: string;
  user: string;
  database: string;
  env: NodeJS.ProcessEnv;
}

interface HoldfastRun {
  backup: number;
  backupWall: number;
  totalBytes: number;
  storedBytes: number;
  backupPeak: number;
  /** Peak resident memory of the backup's own process (ADR 0044), full and incremental, from its BackupProcess event. */
  backupProcessPeak: number;
  incrementalProcessPeak: number;
  /** The incremental backup (spec.parentBackupName: the full) after 5% of the rows changed, and what it stored. */
  incremental: number;
  incrementalStored: number;
  incrementalReusedShare: number;
  /** The server's RSS when the backup started (its high-water mark reset to it). */
  backupBase: number;
  restore: number;
  restoreToRunning: number;
  restoreToQuery: number;
  restorePeak: number;
  restoreBase: number;
  /** Peak resident memory of the restore's own process (ADR 0050), as the Restored condition gives it. */
  restoreProcessPeak: number;
}

interface PgBackRestRun {
  full: Measured;
  fullBytes: number;
  fullStored: number;
  restore: Measured;
  restoreToQuery: number;
  incr: Measured;
  incrDelta: number;
}

interface Trial {
  rawBackup: number;
  rawBytes: number;
  rawRestore: number;
  holdfast: HoldfastRun;
  pgbackrest: PgBackRestRun[];
}

/** `BENCH_BACKUP_SECTIONS=mariadb` runs only MariaDB's section (default: postgresql,mariadb). */
/** A pause after the sync before a timed step, for the disk's queue to drain. */
const SETTLE_MS = 500;
const SECTIONS = new Set((process.env["BENCH_BACKUP_SECTIONS"] ?? "postgresql,mariadb").split(","));

export async function backupBenchmark(): Promise<void> {
  if (SECTIONS.has("postgresql")) await postgresqlBackupBenchmark();
  // MariaDB's section, with its own server and cluster, after PostgreSQL's (unchanged).
  if (SECTIONS.has("mariadb")) await mariadbBackupBenchmark();
}

/** BENCH_BACKUP_ADDRESS: the loopback address the server listens on and advertises (default: the test servers' own). */
async function benchServer(): Promise<{ server: TestServer; major: string }> {
  const address = process.env["BENCH_BACKUP_ADDRESS"];
  if (address === undefined || address === "") return startDemoServer();
  const server = await TestServer.start({ initArgs: ["--advertise", address], serverArgs: ["--advertise", address], listenHost: address });
  await server.ok(["create", "namespace", NS]);
  return { server, major: await installedPostgresMajor() };
}

async function postgresqlBackupBenchmark(): Promise<void> {
  const { server, major } = await benchServer();
  // The raw tools write beside the repository (<home>/backups): the same disk.
  const work = await mkdtemp(join(server.home, "bench-raw-"));
  let pgbackrest: PgBackRestBench | undefined;
  try {
    await server.ok(["apply", "-f", "-"], await postgresExample(major));
    await server.ok(["wait", "cluster/pg-cluster", "-n", NS, "--for=phase=Running", "--timeout=120s"]);
    const endpoint = await connect(server, work, "endpoint");
    const loaded = await timed(() => pgbenchInit(endpoint, SCALE));
    const databaseBytes = Number((await psql(await connectionUri(server, "pg-cluster", NS), "select sum(pg_database_size(datname)) from pg_database")).stdout.trim());
    console.log(`\n${await loadNote()}\npgbench scale ${SCALE}: ${(databaseBytes / MB).toFixed(0)} MB in all databases, loaded in ${loaded.toFixed(0)} s`);
    pgbackrest = await startPgBackRest(major);
    const instance = await connect(server, work, "instance");
    const trials: Trial[] = [];
    for (let i = 0; i < TRIALS; i++) trials.push(await trial(server, instance, pgbackrest, work, i));
    report(trials);
    if (LARGE_SCALE > 0) await largeScalePass(server, endpoint);
  } finally {
    await pgbackrest?.stop();
    await rm(work, { recursive: true, force: true });
    await server.destroy();
  }
}

async function loadNote(): Promise<string> {
  return `machine: ${(await run("uptime", [])).stdout.trim()}`;
}

async function startPgBackRest(major: string): Promise<PgBackRestBench | undefined> {
  const reason = await pgbackrestUnavailable();
  if (reason !== undefined) {
    console.log(`pgBackRest skipped: ${reason}`);
    return undefined;
  }
  const started = performance.now();
  const bench = await PgBackRestBench.start(major, SCALE);
  console.log(`${(await run("pgbackrest", ["version"])).stdout.trim()}: its own PostgreSQL ${major} with pgbench scale ${SCALE}, ready in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  return bench;
}

async function trial(server: TestServer, connection: Connection, pgbackrest: PgBackRestBench | undefined, work: string, index: number): Promise<Trial> {
  const file = join(work, `raw-${index}.tar`);
  await settle();
  const rawBackup = await timed(() => rawBasebackup(connection, file));
  const rawBytes = (await stat(file)).size;
  await settle();
  const rawRestore = await timed(() => untar(file, join(work, `raw-restore-${index}`)));
  await rm(file);
  await rm(join(work, `raw-restore-${index}`), { recursive: true, force: true });
  const holdfast = await holdfastRun(server, index);
  const pgbackrestRuns: PgBackRestRun[] = [];
  if (pgbackrest !== undefined) for (const processMax of [1, 2]) pgbackrestRuns.push(await pgbackrestRun(pgbackrest, processMax));
  const result: Trial = { rawBackup, rawBytes, rawRestore, holdfast, pgbackrest: pgbackrestRuns };
  console.log(`trial ${index + 1}: ${JSON.stringify(result)}`);
  return result;
}

async function holdfastRun(server: TestServer, index: number): Promise<HoldfastRun> {
  const name = `bench-${index}`;
  const pid = server.pid ?? 0;
  await settle();
  const backupBase = await resetPeak(pid);
  const wallStart = performance.now();
  await server.ok(["backup", "create", "--cluster", "pg-cluster", "--name", name, "-n", NS, "--wait", "--timeout", "30m"]);
  const backupWall = (performance.now() - wallStart) / 1000;
  const backupPeak = await peakOf(pid);
  const backupProcessPeak = await processPeak(server, name);
  const status = (await server.api<Backup>(`${DP}/backups/${name}`)).status ?? {};
  const backup = (Date.parse(status.completionTimestamp ?? "") - Date.parse(status.startTimestamp ?? "")) / 1000;
  const parts = await residentParts(pid);
  console.log(`  Holdfast server before the restore: anonymous ${mib(parts.anon)} (V8 heaps, malloc arenas, stacks), file-backed ${mib(parts.file)} (node binary, libraries), shared ${mib(parts.shmem)}, ${parts.threads} threads`);
  console.log(`  beside it, the processes kept waiting for the next job: ${await waitingProcesses(pid)}`);
  await settle();
  const restoreBase = await resetPeak(pid);
  const restored = await restore(server, name, `bench-restored-${index}`);
  const restorePeak = await peakOf(pid);
  await server.ok(["delete", "cluster", `bench-restored-${index}`, "-n", NS, "--wait", "--timeout=120s"]);
  const incremental = await holdfastIncremental(server, name);
  await server.ok(["backup", "delete", name, "-n", NS]);
  return { backup, backupWall, totalBytes: Number(status.totalSize), storedBytes: Number(status.storedSize), backupPeak, backupProcessPeak, backupBase, ...restored, restorePeak, restoreBase, ...incremental };
}

/** The server's backup and restore processes waiting for a job (ADRs 0044, 0050): their anonymous memory, the part that is theirs alone. */
async function waitingProcesses(server: number): Promise<string> {
  const said: string[] = [];
  for (const [work, script] of [["backup", "backup-process/child.ts"], ["restore", "restore-process/child.ts"]] as const) {
    for (const pid of await childProcesses(server, script)) said.push(`${work} ${mib((await residentParts(pid)).anon)} anonymous`);
  }
  return said.length === 0 ? "none" : said.join(", ");
}

/** 5% of the rows changed, then an incremental backup on `full` (deleted again, before its parent). */
async function holdfastIncremental(server: TestServer, full: string): Promise<Pick<HoldfastRun, "incremental" | "incrementalStored" | "incrementalReusedShare" | "incrementalProcessPeak">> {
  const changed = await psql(await connectionUri(server, "pg-cluster", NS), changeFivePercent(SCALE));
  if (changed.code !== 0) throw new Error(`changing 5% of the rows failed: ${changed.stderr}`);
  const name = `${full}-incr`;
  await settle();
  await server.ok(["backup", "create", "--cluster", "pg-cluster", "--name", name, "--parent", full, "-n", NS, "--wait", "--timeout", "30m"]);
  const status = (await server.api<Backup>(`${DP}/backups/${name}`)).status ?? {};
  for (const note of await methodNotes(server, name)) console.log(`  Holdfast incremental: ${note}`);
  const incrementalProcessPeak = await processPeak(server, name);
  await server.ok(["backup", "delete", name, "-n", NS]);
  const seconds = (Date.parse(status.completionTimestamp ?? "") - Date.parse(status.startTimestamp ?? "")) / 1000;
  const stored = Number(status.storedSize);
  const fullStored = Number((await server.api<Backup>(`${DP}/backups/${full}`)).status?.storedSize);
  return { incremental: seconds, incrementalStored: stored, incrementalReusedShare: 1 - stored / fullStored, incrementalProcessPeak };
}

/** The messages of Backup `name`'s events with `reason`. */
async function backupEvents(server: TestServer, name: string, reason: string): Promise<string[]> {
  const listed = await server.cli(["get", "events", "-n", NS, "-o", "json"]);
  if (listed.code !== 0) return [];
  const items = (JSON.parse(listed.stdout) as { items?: Array<{ reason?: string; message?: string; involvedObject?: { name?: string } }> }).items ?? [];
  return items.filter((event) => event.reason === reason && event.involvedObject?.name === name).map((event) => event.message ?? "");
}

/** What the backup method said of Backup `name` (BackupMethodNote events): for an incremental, how it chose its blocks. */
function methodNotes(server: TestServer, name: string): Promise<string[]> {
  return backupEvents(server, name, "BackupMethodNote");
}

/** The peak memory of Backup `name`'s own process (its BackupProcess event), NaN without one. */
async function processPeak(server: TestServer, name: string): Promise<number> {
  const said = (await backupEvents(server, name, "BackupProcess")).join("\n");
  if (said !== "") console.log(`  Holdfast backup ${name}: ${said}`);
  return ownProcessPeak(said, "backup");
}

/** pgBackRest with `processMax`: full, restore + start to the first query, 5% of the rows changed, incr. */
async function pgbackrestRun(bench: PgBackRestBench, processMax: number): Promise<PgBackRestRun> {
  await settle();
  const full = await bench.backup("full", processMax);
  const sizes = await bench.lastBackupSizes();
  await settle();
  const restored = await bench.restoreToFirstQuery(processMax);
  await bench.sql(changeFivePercent(SCALE));
  await settle();
  const incr = await bench.backup("incr", processMax);
  const incrDelta = (await bench.lastBackupSizes()).deltaBytes;
  return { full, fullBytes: sizes.databaseBytes, fullStored: sizes.storedBytes, restore: restored.restore, restoreToQuery: restored.toFirstQuery, incr, incrDelta };
}

/** 5% of pgbench_accounts' rows (a contiguous range of aid), changed in place. */
function changeFivePercent(scale: number): string {
  return `update pgbench_accounts set abalance = abalance + 1 where aid <= ${Math.round(scale * 100_000 * 0.05)}`;
}

/** Grow the database to LARGE_SCALE and show Holdfast's peak memory of one backup and one restore there. */
async function largeScalePass(server: TestServer, endpoint: Connection): Promise<void> {
  await pgbenchInit(endpoint, LARGE_SCALE);
  const run = await holdfastRun(server, 1000);
  console.log(`pgbench scale ${LARGE_SCALE}: base backup ${(run.totalBytes / MB).toFixed(0)} MB in ${run.backup.toFixed(1)} s; peak memory: the backup's own process ${mib(run.backupProcessPeak)} full, ${mib(run.incrementalProcessPeak)} incremental, the restore's own process ${mib(run.restoreProcessPeak)} (goal ≤ ${mib(MEMORY_GOAL)}: ${met(Math.max(run.backupProcessPeak, run.incrementalProcessPeak, run.restoreProcessPeak) <= MEMORY_GOAL)}); beside them, the Holdfast server's VmHWM during the backup ${growth(run.backupPeak, run.backupBase)}, the restore ${growth(run.restorePeak, run.restoreBase)}`);
}

/**
 * Restore into a new cluster, timed from the request reaching the API (the Cluster created as `cluster restore` would,
 * its manifest built beforehand) until the restored cluster answers a query through its endpoint; the moments its
 * instance had the data (Restored) and the cluster was Running are read from the status as they happen. A client
 * tries the query every 100 ms from the start, as `pg_ctl start -w` + psql do for pgBackRest; no CLI process is
 * started on the timed path.
 */
async function restore(server: TestServer, backup: string, cluster: string): Promise<{ restore: number; restoreToRunning: number; restoreToQuery: number; restoreProcessPeak: number }> {
  const snapshot = (await server.api<Backup>(`${DP}/backups/${backup}`)).metadata.annotations?.[CLUSTER_SNAPSHOT_ANNOTATION];
  if (snapshot === undefined) throw new Error(`backup ${backup} records no cluster snapshot`);
  const manifest = restoredClusterManifest(cluster, NS, JSON.parse(snapshot) as Record<string, unknown>, { name: backup, namespace: NS });
  const template = new URL(await connectionUri(server, "pg-cluster", NS));
  const requested = Date.now();
  const created = await server.fetch(`/apis/apps.kubeblocks.io/v1/namespaces/${NS}/clusters`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(manifest) });
  if (created.status !== 201) throw new Error(`creating the restored cluster failed: ${created.status} ${await created.text()}`);
  const answered = firstAnswer(server, cluster, template);
  const condition = await eventually("the data to be restored", async () => {
    const instance = await server.api<Instance>(`/apis/holdfast.io/v1alpha1/namespaces/${NS}/instances/${cluster}-postgresql-0`).catch(() => undefined);
    return instance?.status?.conditions?.find((c) => c.type === "Restored");
  }, 30 * 60_000);
  if (condition.status !== "True") throw new Error(`restore failed: ${condition.message}`);
  const restoreToQuery = (await answered - requested) / 1000;
  const running = (await server.api<Cluster>(`/apis/apps.kubeblocks.io/v1/namespaces/${NS}/clusters/${cluster}`)).status?.conditions?.find((c) => c.type === "Ready" && c.status === "True");
  const restoreToRunning = running === undefined ? Number.NaN : (Date.parse(running.lastTransitionTime) - requested) / 1000;
  const restoreProcessPeak = ownProcessPeak(condition.message, "restore");
  return { restore: (Date.parse(condition.lastTransitionTime) - requested) / 1000, restoreToRunning, restoreToQuery, restoreProcessPeak };
}

/**
 * When (epoch ms) the restored cluster first answered `select count(*) from pgbench_branches` through its endpoint.
 * The client knows what a user of the new cluster knows as soon as it exists (its read-write endpoint's port in the
 * status, its administrator's password in its Secret, both read through the API in this process) and tries from then
 * on, as psql after `pg_ctl start` does for pgBackRest: `cluster connect --show-uri` would wait for a ready instance and
 * add a CLI start-up (about half a second) after it. `template`: the source cluster's URI (host, user, TLS options).
 */
async function firstAnswer(server: TestServer, cluster: string, template: URL): Promise<number> {
  const uri = await eventually("the restored cluster's endpoint and password", async () => {
    const status = (await server.api<Cluster>(`/apis/apps.kubeblocks.io/v1/namespaces/${NS}/clusters/${cluster}`).catch(() => undefined))?.status;
    const port = status?.endpoints?.find((e) => e.access === "ReadWrite")?.port;
    const secret = await server.api<{ data?: { password?: string } }>(`/api/v1/namespaces/${NS}/secrets/${accountSecretName(cluster, "postgresql", "postgres")}`).catch(() => undefined);
    const password = secret?.data?.password;
    if (port === undefined || password === undefined) return undefined;
    const url = new URL(template);
    url.port = String(port);
    url.password = encodeURIComponent(Buffer.from(password, "base64").toString("utf8"));
    return url.toString();
  }, 600_000);
  return eventually("the restored cluster to answer", async () => ((await psql(uri, "select count(*) from pgbench_branches")).code === 0 ? Date.now() : undefined), 30 * 60_000);
}

/**
 * The administrator's connection, its password written to a 0600 passfile (never on a command line): through the
 * cluster's read-write endpoint, or straight to the instance's own port (what the backup method reads from).
 */
async function connect(server: TestServer, work: string, via: "endpoint" | "instance"): Promise<Connection> {
  const uri = new URL(await connectionUri(server, "pg-cluster", NS));
  if (via === "instance") {
    const instance = await server.api<Instance>(`/apis/holdfast.io/v1alpha1/namespaces/${NS}/instances/${INSTANCE}`);
    uri.hostname = instance.status?.host ?? "127.0.0.1";
    uri.port = String(instance.spec.port);
  }
  const connection = { host: uri.hostname, port: uri.port, user: decodeURIComponent(uri.username), database: uri.pathname.slice(1) || "postgres" };
  const passfile = join(work, `pgpass-${via}`);
  await writeFile(passfile, `${connection.host}:${connection.port}:*:${connection.user}:${decodeURIComponent(uri.password).replace(/([:\\])/g, "\\$1")}\n`, { mode: 0o600 });
  return { ...connection, env: { ...process.env, PGPASSFILE: passfile } };
}

async function pgbenchInit(c: Connection, scale: number): Promise<void> {
  // Server-side data generation (G): the client does not ship 5 million rows.
  const result = await run("pgbench", ["-i", "-s", String(scale), "-I", "dtGvp", "-h", c.host, "-p", c.port, "-U", c.user, c.database], { env: c.env, timeoutMs: 60 * 60_000 });
  if (result.code !== 0) throw new Error(`pgbench -i failed: ${result.stderr}`);
}

/** The raw tool: the same pg_basebackup invocation the pg-basebackup method runs, into a file, fsynced. */
async function rawBasebackup(c: Connection, file: string): Promise<void> {
  const args = ["-h", c.host, "-p", c.port, "-U", c.user, "--no-password", "-D", "-", "-Ft", "-X", "fetch", "-c", "fast"];
  const child = spawn("pg_basebackup", args, { env: c.env, stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  await pipeline(child.stdout, createWriteStream(file, { mode: 0o600 }));
  const code = await exited;
  if (code !== 0) throw new Error(`pg_basebackup exited ${code}`);
  await fsync(file);
}

async function untar(file: string, directory: string): Promise<void> {
  await mkdir(directory, { recursive: true });
  const result = await run("tar", ["--extract", `--file=${file}`, `--directory=${directory}`], { timeoutMs: 30 * 60_000 });
  if (result.code !== 0) throw new Error(`tar -x failed: ${result.stderr}`);
  await run("sync", ["-f", directory]);
}

async function fsync(file: string): Promise<void> {
  const handle = await open(file, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Before each timed step, the disk is given the writes of the steps before it (a restored copy, a deleted cluster):
 * otherwise their write-back, still under way, lands in whichever tool's step comes next.
 */
async function settle(): Promise<void> {
  await run("sync", []);
  await sleep(SETTLE_MS);
}

async function timed(work: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}

function report(trials: readonly Trial[]): void {
  const m = (pick: (t: Trial) => number): number => median(trials.map(pick));
  const size = m((t) => t.holdfast.totalBytes);
  const rate = (seconds: number, bytes = size): string => `${(bytes / MB / seconds).toFixed(1)} MB/s`.padStart(12);
  const row = (label: string, seconds: number, bytes?: number, extra = ""): void =>
    console.log(`${label.padEnd(70)}${seconds.toFixed(1).padStart(7)} s${rate(seconds, bytes)}${extra}`);
  const ratio = (theirs: number, ours: number, of: string): string => `${(theirs / ours).toFixed(2)}x of ${of}`.padStart(22);
  const h = (pick: (r: HoldfastRun) => number): number => m((t) => pick(t.holdfast));
  console.log(`\nbackup and restore: pgbench scale ${SCALE}, base backup ${(size / MB).toFixed(0)} MB, median of ${trials.length} trial(s); ratios > 1 mean Holdfast is faster`);
  row("raw pg_basebackup -c fast -Ft -X fetch -D - > file, fsync (instance port)", m((t) => t.rawBackup), m((t) => t.rawBytes));
  row("raw tar -x of that file, sync", m((t) => t.rawRestore), m((t) => t.rawBytes));
  row("Holdfast full backup (zstd, AES-256-GCM, SHA-256 per chunk)", h((r) => r.backup), size, ratio(m((t) => t.rawBackup), h((r) => r.backup), "raw"));
  row("  the same, from `backup create` to Completed (wall clock)", h((r) => r.backupWall), size);
  row("Holdfast incremental after 5% of rows changed (parentBackupName: the full)", h((r) => r.incremental), size, ratio(h((r) => r.backup), h((r) => r.incremental), "full"));
  console.log(`  Holdfast incremental stored ${(h((r) => r.incrementalStored) / MB).toFixed(1)} MB (${(100 * (1 - h((r) => r.incrementalReusedShare))).toFixed(0)}% of what the full stored)`);
  row("Holdfast restore (verify, decrypt, parallel writes + fsync, recovery)", h((r) => r.restore), size, ratio(m((t) => t.rawRestore), h((r) => r.restore), "raw"));
  row("  the same, until the restored cluster answers its first query", h((r) => r.restoreToQuery), size);
  console.log(`Holdfast compression ratio ${(size / h((r) => r.storedBytes)).toFixed(2)} (${(size / MB).toFixed(0)} MB stored as ${(h((r) => r.storedBytes) / MB).toFixed(0)} MB); the server's own VmHWM (the work is in processes of their own) during the backup ${growth(h((r) => r.backupPeak), h((r) => r.backupBase))}, the restore ${growth(h((r) => r.restorePeak), h((r) => r.restoreBase))}`);
  console.log(`Holdfast backup's own process (walk, chunking, zstd, AES-256-GCM, writes; ADR 0044): peak memory ${mib(h((r) => r.backupProcessPeak))} full, ${mib(h((r) => r.incrementalProcessPeak))} incremental (goal ≤ ${mib(MEMORY_GOAL)}: ${met(Math.max(h((r) => r.backupProcessPeak), h((r) => r.incrementalProcessPeak)) <= MEMORY_GOAL)})`);
  console.log(`Holdfast restore's own process (decode, unpack, fsync; ADR 0050): peak memory ${mib(h((r) => r.restoreProcessPeak))} (goal ≤ ${mib(MEMORY_GOAL)}: ${met(h((r) => r.restoreProcessPeak) <= MEMORY_GOAL)}); the server's VmHWM above now excludes that work`);
  const pgbackrest = trials.every((t) => t.pgbackrest.length === 2) ? reportPgBackRest(trials, row, ratio) : undefined;
  goals(trials, pgbackrest);
}

type Row = (label: string, seconds: number, bytes?: number, extra?: string) => void;
type Ratio = (theirs: number, ours: number, of: string) => string;

/** The pgBackRest rows; returns its best full backup and best restore-to-first-query (seconds). */
function reportPgBackRest(trials: readonly Trial[], row: Row, ratio: Ratio): { full: number; restoreToQuery: number } {
  const best = { full: Number.POSITIVE_INFINITY, restoreToQuery: Number.POSITIVE_INFINITY };
  const hold = (pick: (r: HoldfastRun) => number): number => median(trials.map((t) => pick(t.holdfast)));
  for (const [slot, processMax] of [1, 2].entries()) {
    const p = (pick: (r: PgBackRestRun) => number): number => median(trials.map((t) => (t.pgbackrest[slot] === undefined ? Number.NaN : pick(t.pgbackrest[slot]))));
    const bytes = p((r) => r.fullBytes);
    row(`pgBackRest ${"full".padEnd(4)} process-max=${processMax} (zst, aes-256-cbc)`, p((r) => r.full.seconds), bytes, ratio(p((r) => r.full.seconds), hold((r) => r.backup), "Holdfast"));
    row(`pgBackRest incr after 5% of rows changed, process-max=${processMax} (${(p((r) => r.incrDelta) / MB).toFixed(0)} MB copied)`, p((r) => r.incr.seconds), bytes);
    row(`pgBackRest restore + start to first query, process-max=${processMax}`, p((r) => r.restoreToQuery), bytes, ratio(p((r) => r.restoreToQuery), hold((r) => r.restoreToQuery), "Holdfast"));
    console.log(`  pgBackRest process-max=${processMax}: stored ${(p((r) => r.fullStored) / MB).toFixed(0)} MB of ${(bytes / MB).toFixed(0)} MB; restore alone ${p((r) => r.restore.seconds).toFixed(1)} s; peak memory full ${mib(p((r) => r.full.peakBytes))}, incr ${mib(p((r) => r.incr.peakBytes))}, restore ${mib(p((r) => r.restore.peakBytes))}`);
    best.full = Math.min(best.full, p((r) => r.full.seconds));
    best.restoreToQuery = Math.min(best.restoreToQuery, p((r) => r.restoreToQuery));
  }
  return best;
}

/** The goals, each met or not met. */
function goals(trials: readonly Trial[], pgbackrest: { full: number; restoreToQuery: number } | undefined): void {
  const h = (pick: (r: HoldfastRun) => number): number => median(trials.map((t) => pick(t.holdfast)));
  const pgb2 = (pick: (r: PgBackRestRun) => number): number => median(trials.map((t) => (t.pgbackrest[1] === undefined ? Number.NaN : pick(t.pgbackrest[1]))));
  console.log("\ngoals:");
  if (pgbackrest === undefined) console.log("  the pgBackRest goals are not checked: pgBackRest was skipped");
  else {
    const full = pgb2((r) => r.full.seconds) / h((r) => r.backup);
    const restoreRatio = pgbackrest.restoreToQuery / h((r) => r.restoreToQuery);
    console.log(`  full backup >= 1.0x pgBackRest process-max=2: ${full.toFixed(2)}x, ${met(full >= 1)}`);
    console.log(`  restore to first query >= 1.0x pgBackRest restore + start (its best): ${restoreRatio.toFixed(2)}x, ${met(restoreRatio >= 1)}`);
  }
  const incremental = h((r) => r.backup) / h((r) => r.incremental);
  console.log(`  incremental >= 3x faster than full: ${incremental.toFixed(2)}x, ${met(incremental >= 3)}`);
  const backupPeak = Math.max(h((r) => r.backupProcessPeak), h((r) => r.incrementalProcessPeak));
  const serverAdded = h((r) => r.backupPeak - r.backupBase);
  const restorePeak = h((r) => r.restoreProcessPeak);
  const later = LARGE_SCALE > 0 ? "" : " (scale 200: BENCH_BACKUP_LARGE_SCALE=200)";
  console.log(`  peak memory of a restore <= ${mib(MEMORY_GOAL)} at scale ${SCALE}: its own process ${mib(restorePeak)}, ${met(restorePeak <= MEMORY_GOAL)}${later}`);
  console.log(`  peak memory of a backup <= ${mib(MEMORY_GOAL)} at scale ${SCALE}: its own process ${mib(backupPeak)} (the larger of full and incremental), ${met(backupPeak <= MEMORY_GOAL)}${later}; beside it, the server's VmHWM grew by ${mib(serverAdded)} during the full backup\n`);
}

/** A peak, and how far it rose above the RSS the process had when the work started. */
function growth(peak: number, base: number): string {
  return `${mib(peak)} (+${mib(peak - base)})`;
}

function met(ok: boolean): string {
  return ok ? "met" : "NOT met";
}
