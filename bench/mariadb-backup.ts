/**
 * MariaDB backup and restore throughput (issue 15, done-when 5), in one run on the same disk: a table of
 * BENCH_MARIADB_ROWS rows (default 1,000,000; about 150 MB of InnoDB), then, BENCH_BACKUP_TRIALS times (default 2):
 * - the floor: raw `mariabackup --backup --stream=xbstream` as the instance's OS user, over its socket, into a file
 *   (fsync at the end);
 * - Holdfast: a Backup (method mariabackup) through the backup writer (zstd, AES-256-GCM, SHA-256 per chunk) into the
 *   local repository, from `backup create` to Completed, and the Backup's own duration;
 * and once a restore into a new cluster until it answers its first query. Skipped, saying so, without mariadbd.
 */
import { spawn } from "node:child_process";
import { constants, createWriteStream } from "node:fs";
import { chown, mkdtemp, open, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import type { Backup, Instance } from "../src/api/index.ts";
import { createMariadbEngine } from "../src/engines/index.ts";
import { backupOptionFile, clientPluginDirectory } from "../src/engines/mariadb/mariabackup.ts";
import { clusterCaFile, connectionUri } from "../test/helpers/clients.ts";
import { run, TestServer } from "../test/helpers/harness.ts";
import { exampleWith } from "../test/helpers/manifests.ts";
import { median } from "./stats.ts";

const ROWS = Number(process.env["BENCH_MARIADB_ROWS"] ?? 1_000_000);
const TRIALS = Number(process.env["BENCH_BACKUP_TRIALS"] ?? 2);
const NS = "demo";
const MB = 1_000_000;
const CLUSTER = "mdb-bench";

interface Trial {
  raw: number;
  rawBytes: number;
  holdfast: number;
  holdfastWall: number;
  totalBytes: number;
  storedBytes: number;
}

/** The MariaDB section of `npm run bench -- backup`. */
export async function mariadbBackupBenchmark(): Promise<void> {
  const installed = await createMariadbEngine().detectVersions();
  if (installed.length === 0) {
    console.log("\nMariaDB backup: skipped, mariadbd is not installed (apt-get install -y mariadb-server mariadb-client mariadb-backup)");
    return;
  }
  const server = await TestServer.start({ initArgs: ["--advertise", "127.0.76.2"], listenHost: "127.0.76.2" });
  const work = await mkdtemp(join(server.home, "bench-raw-"));
  try {
    await server.ok(["create", "namespace", NS]);
    await server.ok(["apply", "-f", "-"], await exampleWith("mariadb/cluster.yaml", (doc) => {
      doc["metadata"].name = CLUSTER;
      doc["spec"].componentSpecs[0].serviceVersion = installed[0]?.version;
    }));
    await server.ok(["wait", `cluster/${CLUSTER}`, "-n", NS, "--for=phase=Running", "--timeout=240s"]);
    const loaded = await timed(() => load(server));
    console.log(`\nMariaDB ${installed[0]?.version}: ${ROWS} rows loaded in ${loaded.toFixed(0)} s (load average ${(await run("cat", ["/proc/loadavg"])).stdout.trim()})`);
    const trials: Trial[] = [];
    for (let i = 0; i < TRIALS; i++) trials.push(await trial(server, work, i));
    const restore = await timed(() => restoreAndQuery(server));
    report(trials, restore);
  } finally {
    await rm(work, { recursive: true, force: true });
    await server.destroy();
  }
}

/** The real mariadb client as the administrator over verified TLS (option file on a pipe). */
async function sql(server: TestServer, cluster: string, text: string): Promise<string> {
  const url = new URL(await connectionUri(server, cluster, NS));
  const options = `[client]\nuser=${decodeURIComponent(url.username)}\npassword=${decodeURIComponent(url.password)}\n`;
  const script = `exec mariadb --defaults-extra-file=/dev/stdin "$@" <<'EOF'\n${options}EOF`;
  const ca = clusterCaFile(server);
  const result = await run("sh", ["-c", script, "mariadb", `--host=${url.hostname}`, `--port=${url.port}`, "--protocol=TCP", "--ssl", `--ssl-ca=${ca}`, "-N", "-B", "-e", text], { timeoutMs: 3_600_000 });
  if (result.code !== 0) throw new Error(`${text}: ${result.stderr}`);
  return result.stdout.trim();
}

async function load(server: TestServer): Promise<void> {
  await sql(server, CLUSTER, "CREATE DATABASE bench; USE bench; CREATE TABLE bench.accounts (id INT PRIMARY KEY, owner VARCHAR(40) NOT NULL, balance DECIMAL(12,2) NOT NULL, filler CHAR(84) NOT NULL) ENGINE=InnoDB");
  await sql(server, CLUSTER, `INSERT INTO bench.accounts SELECT seq, CONCAT('owner-', seq), (seq * 7 % 10000) / 100, MD5(seq) FROM bench.seq_1_to_${ROWS}`);
}

async function trial(server: TestServer, work: string, index: number): Promise<Trial> {
  const file = join(work, `raw-${index}.xbstream`);
  const raw = await timed(() => rawMariabackup(server, work, file));
  const rawBytes = (await stat(file)).size;
  await rm(file, { force: true });
  const name = `${CLUSTER}-bench-${index}`;
  const holdfastWall = await timed(() => server.ok(["backup", "create", "--cluster", CLUSTER, "--name", name, "-n", NS, "--wait", "--timeout", "3600s"]).then(() => undefined));
  const status = (await server.api<Backup>(`/apis/dataprotection.kubeblocks.io/v1alpha1/namespaces/${NS}/backups/${name}`)).status ?? {};
  const holdfast = (Date.parse(status.timeRange?.end ?? "") - Date.parse(status.timeRange?.start ?? "")) / 1000;
  return { raw, rawBytes, holdfast: Number.isFinite(holdfast) && holdfast > 0 ? holdfast : holdfastWall, holdfastWall, totalBytes: Number(status.totalSize), storedBytes: Number(status.storedSize) };
}

/** The floor: the same mariabackup invocation as the method's, as the instance's OS user, into a file, fsynced. */
async function rawMariabackup(server: TestServer, work: string, file: string): Promise<void> {
  const instance = await server.api<Instance>(`/apis/holdfast.io/v1alpha1/namespaces/${NS}/instances/${CLUSTER}-mariadb-0`);
  const root = join(server.home, "instances", NS, instance.metadata.name);
  const owner = await stat(join(root, "data"));
  const url = new URL(await connectionUri(server, CLUSTER, NS));
  const layout = { instanceName: instance.metadata.name, rootDirectory: root, dataDirectory: join(root, "data"), runDirectory: join(root, "run"), port: Number(url.port), version: { version: "", major: "", binDir: "" }, parameters: {}, role: "primary" };
  const optionFile = join(work, "raw-mariabackup.cnf");
  await writeFile(optionFile, backupOptionFile(layout, { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) }, await clientPluginDirectory()), { mode: 0o600 });
  await chown(optionFile, owner.uid, owner.gid);
  await chown(work, owner.uid, owner.gid);
  const target = join(work, "raw-target");
  const mariabackup = ["mariabackup", `--defaults-file=${optionFile}`, "--backup", "--stream=xbstream", `--target-dir=${target}`];
  const child = spawn("setpriv", ["--reuid", String(owner.uid), "--regid", String(owner.gid), "--clear-groups", "--", ...mariabackup], { stdio: ["ignore", "pipe", "pipe"], cwd: work });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-2000)));
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  await pipeline(child.stdout, createWriteStream(file, { mode: 0o600 }));
  const code = await exited;
  await rm(optionFile, { force: true });
  await rm(target, { recursive: true, force: true });
  if (code !== 0) throw new Error(`mariabackup exited ${code}: ${stderr}`);
  const handle = await open(file, constants.O_RDONLY);
  await handle.sync();
  await handle.close();
}

async function restoreAndQuery(server: TestServer): Promise<void> {
  await server.ok(["cluster", "restore", `${CLUSTER}-restored`, "--backup", `${CLUSTER}-bench-0`, "-n", NS]);
  await server.ok(["wait", `cluster/${CLUSTER}-restored`, "-n", NS, "--for=phase=Running", "--timeout=3600s"]);
  await sql(server, `${CLUSTER}-restored`, "SELECT COUNT(*) FROM bench.accounts");
}

async function timed(work: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}

function report(trials: readonly Trial[], restore: number): void {
  const m = (pick: (t: Trial) => number): number => median(trials.map(pick));
  const size = m((t) => t.totalBytes);
  const row = (label: string, seconds: number, bytes: number, extra = ""): void =>
    console.log(`${label.padEnd(70)}${seconds.toFixed(1).padStart(7)} s${`${(bytes / MB / seconds).toFixed(1)} MB/s`.padStart(12)}${extra}`);
  console.log(`\nMariaDB backup: ${ROWS} rows, xbstream ${(size / MB).toFixed(0)} MB, median of ${trials.length} trial(s); ratios > 1 mean Holdfast is faster`);
  row("raw mariabackup --backup --stream=xbstream > file, fsync (socket)", m((t) => t.raw), m((t) => t.rawBytes));
  row("Holdfast mariabackup backup (zstd, AES-256-GCM, SHA-256 per chunk)", m((t) => t.holdfast), size, `${(m((t) => t.raw) / m((t) => t.holdfast)).toFixed(2)}x of raw`.padStart(22));
  row("  the same, from `backup create` to Completed (wall clock)", m((t) => t.holdfastWall), size);
  row("Holdfast restore into a new cluster, until its first query", restore, size);
  console.log(`Holdfast compression ratio ${(size / m((t) => t.storedBytes)).toFixed(2)} (${(size / MB).toFixed(0)} MB stored as ${(m((t) => t.storedBytes) / MB).toFixed(0)} MB)`);
}
