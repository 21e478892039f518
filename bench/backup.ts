/**
 * Backup and restore throughput on a pgbench database (scale BENCH_PGBENCH_SCALE, default 50), through Holdfast's real
 * paths: a Backup object taken by the pg-basebackup method through the backup writer (zstd, AES-256-GCM, SHA-256,
 * fsync per chunk) into the local repository, and a restore into a new cluster through the instance controller's
 * restorer (checked read, tar, single-user recovery). Beside it, in the same run on the same disk, the raw tools:
 * `pg_basebackup -c fast -Ft -X fetch -D -` into a file (fsync at the end), and `tar -x` of that file. Throughput is
 * MB/s of the base backup's size (the database as pg_basebackup streams it). BENCH_BACKUP_TRIALS trials (default 2).
 */
import { spawn } from "node:child_process";
import { constants, createWriteStream } from "node:fs";
import { mkdir, mkdtemp, open, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import type { Backup, Instance } from "../src/api/index.ts";
import { connectionUri, psql, startDemoServer } from "../test/helpers/clients.ts";
import { eventually, run, type TestServer } from "../test/helpers/harness.ts";
import { postgresExample } from "../test/helpers/manifests.ts";
import { median } from "./stats.ts";

const SCALE = Number(process.env["BENCH_PGBENCH_SCALE"] ?? 50);
const TRIALS = Number(process.env["BENCH_BACKUP_TRIALS"] ?? 2);
const NS = "demo";
const MB = 1_000_000;
const DP = `/apis/dataprotection.kubeblocks.io/v1alpha1/namespaces/${NS}`;

/** How to reach the database with the raw tools: loopback TCP, the password in a 0600 passfile. */
interface Connection {
  host: string;
  port: string;
  user: string;
  database: string;
  env: NodeJS.ProcessEnv;
}

interface Trial {
  rawBackup: number;
  rawBytes: number;
  backup: number;
  backupWall: number;
  totalBytes: number;
  storedBytes: number;
  rawRestore: number;
  restore: number;
  restoreToRunning: number;
}

export async function backupBenchmark(): Promise<void> {
  const { server, major } = await startDemoServer();
  // The raw tools write beside the repository (<home>/backups): the same disk.
  const work = await mkdtemp(join(server.home, "bench-raw-"));
  try {
    await server.ok(["apply", "-f", "-"], await postgresExample(major));
    await server.ok(["wait", "cluster/pg-cluster", "-n", NS, "--for=phase=Running", "--timeout=120s"]);
    const connection = await connect(server, work);
    const loaded = await timed(() => pgbenchInit(connection));
    const databaseBytes = Number((await psql(await connectionUri(server, "pg-cluster", NS), "select sum(pg_database_size(datname)) from pg_database")).stdout.trim());
    console.log(`\npgbench scale ${SCALE}: ${(databaseBytes / MB).toFixed(0)} MB in all databases, loaded in ${loaded.toFixed(0)} s`);
    const trials: Trial[] = [];
    for (let i = 0; i < TRIALS; i++) trials.push(await trial(server, connection, work, i));
    report(trials);
  } finally {
    await rm(work, { recursive: true, force: true });
    await server.destroy();
  }
}

async function trial(server: TestServer, connection: Connection, work: string, index: number): Promise<Trial> {
  const file = join(work, `raw-${index}.tar`);
  const rawBackup = await timed(() => rawBasebackup(connection, file));
  const rawBytes = (await stat(file)).size;
  const rawRestore = await timed(() => untar(file, join(work, `raw-restore-${index}`)));
  await rm(file);
  await rm(join(work, `raw-restore-${index}`), { recursive: true, force: true });
  const name = `bench-${index}`;
  const wallStart = performance.now();
  await server.ok(["backup", "create", "--cluster", "pg-cluster", "--name", name, "-n", NS, "--wait", "--timeout", "30m"]);
  const backupWall = (performance.now() - wallStart) / 1000;
  const status = (await server.api<Backup>(`${DP}/backups/${name}`)).status ?? {};
  const backup = (Date.parse(status.completionTimestamp ?? "") - Date.parse(status.startTimestamp ?? "")) / 1000;
  const restored = await restore(server, name, `bench-restored-${index}`);
  await server.ok(["delete", "cluster", `bench-restored-${index}`, "-n", NS, "--wait", "--timeout=120s"]);
  await server.ok(["backup", "delete", name, "-n", NS]);
  const result = { rawBackup, rawBytes, backup, backupWall, totalBytes: Number(status.totalSize), storedBytes: Number(status.storedSize), rawRestore, ...restored };
  console.log(`trial ${index + 1}: ${JSON.stringify(result)}`);
  return result;
}

/** Restore into a new cluster: seconds until its instance has the data (Restored), and until the cluster is Running. */
async function restore(server: TestServer, backup: string, cluster: string): Promise<{ restore: number; restoreToRunning: number }> {
  const requested = Date.now();
  await server.ok(["cluster", "restore", cluster, "--backup", backup, "-n", NS]);
  const condition = await eventually("the data to be restored", async () => {
    const instance = await server.api<Instance>(`/apis/holdfast.io/v1alpha1/namespaces/${NS}/instances/${cluster}-postgresql-0`).catch(() => undefined);
    return instance?.status?.conditions?.find((c) => c.type === "Restored");
  }, 30 * 60_000);
  if (condition.status !== "True") throw new Error(`restore failed: ${condition.message}`);
  const done = Date.parse(condition.lastTransitionTime);
  await server.ok(["wait", `cluster/${cluster}`, "-n", NS, "--for=phase=Running", "--timeout=600s"]);
  return { restore: (done - requested) / 1000, restoreToRunning: (Date.now() - requested) / 1000 };
}

/** The administrator's connection, its password written to a 0600 passfile (never on a command line). */
async function connect(server: TestServer, work: string): Promise<Connection> {
  const uri = new URL(await connectionUri(server, "pg-cluster", NS));
  const connection = { host: uri.hostname, port: uri.port, user: decodeURIComponent(uri.username), database: uri.pathname.slice(1) || "postgres" };
  const passfile = join(work, "pgpass");
  await writeFile(passfile, `${connection.host}:${connection.port}:*:${connection.user}:${decodeURIComponent(uri.password).replace(/([:\\])/g, "\\$1")}\n`, { mode: 0o600 });
  return { ...connection, env: { ...process.env, PGPASSFILE: passfile } };
}

async function pgbenchInit(c: Connection): Promise<void> {
  // Server-side data generation (G): the client does not ship 5 million rows.
  const result = await run("pgbench", ["-i", "-s", String(SCALE), "-I", "dtGvp", "-h", c.host, "-p", c.port, "-U", c.user, c.database], { env: c.env, timeoutMs: 30 * 60_000 });
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

async function timed(work: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}

function report(trials: readonly Trial[]): void {
  const m = (pick: (t: Trial) => number): number => median(trials.map(pick));
  const size = m((t) => t.totalBytes);
  const rate = (seconds: number, bytes = size): string => `${(bytes / MB / seconds).toFixed(1)} MB/s`.padStart(12);
  const row = (label: string, seconds: number, bytes?: number, floor?: number): void =>
    console.log(`${label.padEnd(66)}${seconds.toFixed(1).padStart(7)} s${rate(seconds, bytes)}${floor === undefined ? "" : `${(floor / seconds).toFixed(2)}x of raw`.padStart(16)}`);
  console.log(`\nbackup and restore: pgbench scale ${SCALE}, base backup ${(size / MB).toFixed(0)} MB, median of ${trials.length} trial(s)`);
  row("raw pg_basebackup -c fast -Ft -X fetch -D - > file, fsync", m((t) => t.rawBackup), m((t) => t.rawBytes));
  row("Holdfast backup (zstd, AES-256-GCM, SHA-256, fsync/chunk)", m((t) => t.backup), size, m((t) => t.rawBackup));
  row("  the same, from `backup create` to Completed (wall clock)", m((t) => t.backupWall), size, m((t) => t.rawBackup));
  row("raw tar -x of that file, sync", m((t) => t.rawRestore), m((t) => t.rawBytes));
  row("Holdfast restore (verify, decrypt, tar -x, single-user recovery)", m((t) => t.restore), size, m((t) => t.rawRestore));
  row("  the same, until the restored cluster is Running", m((t) => t.restoreToRunning), size, m((t) => t.rawRestore));
  console.log(`compression ratio: ${(size / m((t) => t.storedBytes)).toFixed(2)} (${(size / MB).toFixed(0)} MB stored as ${(m((t) => t.storedBytes) / MB).toFixed(0)} MB)\n`);
}
