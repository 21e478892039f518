/**
 * Point-in-time recovery and logical backups end to end, through the real server, against a replicated PostgreSQL
 * cluster (a primary and a standby) and the local repository:
 * - archive-wal stays Running and its timeRange.end advances as WAL lands; `backup list` shows the range;
 * - done-when: write A, note the time, write B; restoring to that time yields A and not B (and, with commits every
 *   50 ms around the time, exactly those committed before it);
 * - times outside what is covered, or not RFC 3339, are refused up front, naming the covered range;
 * - a canary written after the full backup reaches the repository only encrypted; spools are drained;
 * - WAL older than the oldest kept full backup is pruned once an older full backup is deleted;
 * - after a switchover the new primary archives on its new timeline; a restore to a time after it follows it;
 * - pgdump: backup, restore into a new cluster, identical data in every table of two databases, roles kept.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Backup } from "../../src/api/index.ts";
import { connectionUri, psql, startDemoServer } from "../helpers/clients.ts";
import { eventually, run, type TestServer } from "../helpers/harness.ts";
import { postgresExample } from "../helpers/manifests.ts";

let server: TestServer;
let major: string;
const numbers: Record<string, string | number> = {};
const canary = `holdfast-pitr-canary-${randomUUID()}`;
const NS = "demo";
const BACKUPS = "/apis/dataprotection.kubeblocks.io/v1alpha1/namespaces/demo/backups";

before(async () => {
  ({ server, major } = await startDemoServer());
});

after(async () => {
  console.log(`pitr numbers: ${JSON.stringify(numbers)}`);
  await server.destroy();
});

function backup(name: string): Promise<Backup> {
  return server.api<Backup>(`${BACKUPS}/${name}`);
}

async function sql(uri: string, text: string): Promise<string> {
  const result = await psql(uri, text);
  assert.equal(result.code, 0, `${text}: ${result.stderr}`);
  return result.stdout.trim();
}

/** Wait for a restored cluster to run; on failure, say why its instances did not. */
async function waitRunning(cluster: string): Promise<void> {
  const result = await server.cli(["wait", `cluster/${cluster}`, "-n", NS, "--for=phase=Running", "--timeout=170s"]);
  if (result.code === 0) return;
  const described = await server.cli(["describe", "cluster", cluster, "-n", NS]);
  throw new Error(`cluster ${cluster} is not Running:\n${described.stdout}\n${described.stderr}`);
}

/** The database's clock, as RFC 3339 UTC with microseconds. */
const NOW = `select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

async function filesUnder(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

async function archivedSegments(archive: Backup): Promise<string[]> {
  const prefix = archive.status?.path ?? "none";
  const manifests = await readdir(join(server.home, "backups", "manifests")).catch(() => []);
  return manifests.filter((name) => name.startsWith(prefix)).map((name) => name.slice(prefix.length, -".json".length)).sort();
}

/** One transaction per line, `count` of them, 50 ms apart, each recording its own clock. */
async function ticks(uri: string, from: number, count: number): Promise<void> {
  const lines = Array.from({ length: count }, (_, i) => `insert into ticks values (${from + i}, clock_timestamp()); select pg_sleep(0.05);`);
  const result = await run("psql", [uri, "-X", "-q", "-v", "ON_ERROR_STOP=1"], { input: `${lines.join("\n")}\n`, timeoutMs: 60_000 });
  assert.equal(result.code, 0, result.stderr);
}

let noted: string;
let fullEnd: string;

describe("archive-wal and point-in-time recovery", () => {
  test("a replicated cluster, its continuous backup Running, then a full backup", async () => {
    await server.ok(["apply", "-f", "-"], await postgresExample(major, (doc) => {
      doc["metadata"].name = "pg-pitr";
      doc["spec"].componentSpecs[0].replicas = 2;
    }));
    await server.ok(["wait", "cluster/pg-pitr", "-n", NS, "--for=phase=Running", "--timeout=180s"]);
    const uri = await connectionUri(server, "pg-pitr", NS);
    await sql(uri, "create table items (id int primary key, v text not null); insert into items select g, md5(g::text) from generate_series(1, 5000) g");
    await sql(uri, "create table ticks (n int primary key, at timestamptz not null)");
    await eventually("the BackupPolicy", async () => (await server.cli(["get", "backuppolicies", "-n", NS])).stdout.includes("pg-pitr-postgresql-backup-policy") || undefined);
    await server.ok(["backup", "create", "--cluster", "pg-pitr", "--method", "archive-wal", "--name", "pg-pitr-wal", "-n", NS]);
    await server.ok(["wait", "backup/pg-pitr-wal", "-n", NS, "--for=phase=Running", "--timeout=60s"]);
    const wal = await backup("pg-pitr-wal");
    assert.equal(wal.metadata.labels?.["dataprotection.kubeblocks.io/backup-type"], "Continuous");
    assert.ok(wal.status?.timeRange?.start !== undefined);
    const started = Date.now();
    await server.ok(["backup", "create", "--cluster", "pg-pitr", "--name", "pg-pitr-full", "-n", NS, "--wait", "--timeout", "180s"]);
    numbers["fullBackupSeconds"] = ((Date.now() - started) / 1000).toFixed(1);
    fullEnd = (await backup("pg-pitr-full")).status?.timeRange?.end ?? "";
    assert.notEqual(fullEnd, "");
  });

  test("write A, note the time, write B; the archive's time range advances past B", async () => {
    const uri = await connectionUri(server, "pg-pitr", NS);
    await sql(uri, `insert into items values (-1, 'A ${canary}')`);
    await ticks(uri, 1, 20);
    noted = await sql(uri, NOW);
    await ticks(uri, 21, 20);
    await sql(uri, "insert into items values (-2, 'B')");
    const bAt = await sql(uri, NOW);
    const switched = Date.now();
    await sql(uri, "select pg_switch_wal()");
    const archived = await eventually("the WAL holding B to be archived", async () => {
      const end = (await backup("pg-pitr-wal")).status?.timeRange?.end;
      return end !== undefined && Date.parse(end) >= Date.parse(bAt) ? end : undefined;
    }, 60_000);
    numbers["archiveDelayAfterSwitchMs"] = Date.now() - switched;
    numbers["archivedEnd"] = archived;
    const listed = await server.ok(["backup", "list", "-n", NS]);
    assert.match(listed, /pg-pitr-wal\s+pg-pitr\s+archive-wal\s+Running\s.*\d{4}-\d\d-\d\dT[\d:]+Z\.\.\d{4}-\d\d-\d\dT[\d:]+Z/);
    assert.equal((await backup("pg-pitr-wal")).status?.phase, "Running");
  });

  test("the spools are drained, and the canary reaches the repository only encrypted", async () => {
    const instances = join(server.home, "instances", NS);
    await eventually("spools to be drained", async () => {
      const spooled = (await filesUnder(instances)).filter((file) => file.includes("/wal-spool/") && /\/[0-9A-F]{24}$/.test(file));
      return spooled.length === 0 ? true : undefined;
    }, 30_000);
    const segments = await archivedSegments(await backup("pg-pitr-wal"));
    numbers["archivedFiles"] = segments.length;
    assert.ok(segments.some((name) => /^[0-9A-F]{24}$/.test(name)), segments.join(","));
    const needle = Buffer.from(canary);
    const files = await filesUnder(join(server.home, "backups"));
    for (const file of files) assert.equal((await readFile(file)).includes(needle), false, `${file} holds the canary in plaintext`);
  });

  test("times not covered, or not RFC 3339, are refused up front, naming the covered range", async () => {
    const early = await server.cli(["cluster", "restore", "pg-too-early", "--backup", "pg-pitr-wal", "--restore-to-time", new Date(Date.parse(fullEnd) - 60_000).toISOString(), "-n", NS]);
    assert.notEqual(early.code, 0);
    assert.match(early.stderr, /is not covered: backup pg-pitr-wal covers \S+ \(the end of full backup pg-pitr-full\) to \S+ \(the last archived WAL\)/);
    const late = await server.cli(["cluster", "restore", "pg-too-late", "--backup", "pg-pitr-wal", "--restore-to-time", new Date(Date.now() + 3_600_000).toISOString(), "-n", NS]);
    assert.notEqual(late.code, 0);
    assert.match(late.stderr, /is not covered: backup pg-pitr-wal covers/);
    const bad = await server.cli(["cluster", "restore", "pg-bad-time", "--backup", "pg-pitr-wal", "--restore-to-time", "yesterday", "-n", NS]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /not an RFC 3339 time: write it like 2025-01-02T15:04:05Z/);
  });

  test("restoring to the noted time yields A and not B, and exactly the commits before it", async () => {
    const started = Date.now();
    await server.ok(["cluster", "restore", "pg-at-a", "--backup", "pg-pitr-wal", "--restore-to-time", noted, "-n", NS]);
    await waitRunning("pg-at-a");
    numbers["pitrRestoreSeconds"] = ((Date.now() - started) / 1000).toFixed(1);
    const uri = await connectionUri(server, "pg-at-a", NS);
    assert.equal(await sql(uri, "select v from items where id = -1"), `A ${canary}`);
    assert.equal(await sql(uri, "select count(*) from items where id = -2"), "0", "B must not be there");
    assert.equal(await sql(uri, "select count(*) from items where id > 0"), "5000");
    assert.equal(await sql(uri, "select coalesce(max(n), 0) from ticks"), "20");
    const source = await connectionUri(server, "pg-pitr", NS);
    const lastIn = await sql(source, "select extract(epoch from at) * 1000 from ticks where n = 20");
    const firstOut = await sql(source, "select extract(epoch from at) * 1000 from ticks where n = 21");
    numbers["lastRestoredCommitBeforeTargetMs"] = (Date.parse(noted) - Number(lastIn)).toFixed(1);
    numbers["firstExcludedCommitAfterTargetMs"] = (Number(firstOut) - Date.parse(noted)).toFixed(1);
    // A restored cluster writes on a timeline of its own.
    await sql(uri, "insert into items values (-3, 'after restore')");
  });

  test("WAL no kept full backup needs is pruned once the older full backup is deleted", async () => {
    const uri = await connectionUri(server, "pg-pitr", NS);
    await sql(uri, "select pg_switch_wal()");
    await sleep(11_000);
    await server.ok(["backup", "create", "--cluster", "pg-pitr", "--name", "pg-pitr-full-2", "-n", NS, "--wait", "--timeout", "180s"]);
    const wal = await backup("pg-pitr-wal");
    const before = await archivedSegments(wal);
    await server.ok(["backup", "delete", "pg-pitr-full", "-n", NS]);
    const secondStart = Date.parse((await backup("pg-pitr-full-2")).status?.timeRange?.start ?? "");
    const afterPrune = await eventually("older WAL to be pruned", async () => {
      const now = await archivedSegments(wal);
      return now.length < before.length ? now : undefined;
    }, 30_000);
    numbers["prunedFiles"] = before.length - afterPrune.length;
    assert.ok(afterPrune.some((name) => name.endsWith(".history")) || !before.some((name) => name.endsWith(".history")), "timeline history files are kept");
    const refused = await server.cli(["cluster", "restore", "pg-pruned", "--backup", "pg-pitr-wal", "--restore-to-time", noted, "-n", NS]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /the end of full backup pg-pitr-full-2/);
    assert.ok(Number.isFinite(secondStart));
  });

  test("after a switchover the new primary archives on its timeline, and a restore past it follows", async () => {
    const opsPath = "/apis/operations.kubeblocks.io/v1alpha1/namespaces/demo/opsrequests/pg-pitr-switchover";
    await server.ok(["apply", "-f", "-"], JSON.stringify({ apiVersion: "operations.kubeblocks.io/v1alpha1", kind: "OpsRequest", metadata: { name: "pg-pitr-switchover", namespace: NS }, spec: { clusterName: "pg-pitr", type: "Switchover", switchover: [{ componentName: "postgresql", instanceName: "pg-pitr-postgresql-0" }] } }));
    const done = await eventually("the switchover", async () => {
      const ops = await server.api<{ status?: { phase?: string; message?: string } }>(opsPath);
      return ops.status?.phase === "Succeed" || ops.status?.phase === "Failed" ? ops : undefined;
    }, 120_000);
    assert.equal(done.status?.phase, "Succeed", done.status?.message);
    const uri = await connectionUri(server, "pg-pitr", NS);
    await eventually("writes on the new primary", async () => ((await psql(uri, "insert into items values (-10, 'C')")).code === 0 ? true : undefined), 60_000);
    const afterSwitchover = await sql(uri, NOW);
    await sql(uri, "insert into items values (-11, 'D')");
    const dAt = await sql(uri, NOW);
    await sql(uri, "select pg_switch_wal()");
    await eventually("the new primary's WAL to be archived", async () => {
      const end = (await backup("pg-pitr-wal")).status?.timeRange?.end;
      return end !== undefined && Date.parse(end) >= Date.parse(dAt) ? true : undefined;
    }, 60_000);
    const files = await archivedSegments(await backup("pg-pitr-wal"));
    assert.ok(files.some((name) => /^00000002\.history$/.test(name)), `a timeline history file is archived: ${files.join(",")}`);
    await server.ok(["cluster", "restore", "pg-after-switch", "--backup", "pg-pitr-full-2", "--restore-to-time", afterSwitchover, "-n", NS]);
    await waitRunning("pg-after-switch");
    const restored = await connectionUri(server, "pg-after-switch", NS);
    assert.equal(await sql(restored, "select string_agg(v, ',' order by id desc) from items where id in (-10, -11)"), "C");
  });
});

/** md5 of every row of every table in schema public, by table. */
async function tableChecksums(uri: string): Promise<Record<string, string>> {
  const tables = (await sql(uri, "select tablename from pg_tables where schemaname = 'public' order by 1")).split("\n").filter((t) => t !== "");
  const sums: Record<string, string> = {};
  for (const table of tables) sums[table] = await sql(uri, `select count(*) || ':' || coalesce(md5(string_agg(x::text, ',' order by x::text)), '') from "${table}" x`);
  return sums;
}

function withDatabase(uri: string, database: string): string {
  const url = new URL(uri);
  url.pathname = `/${database}`;
  return url.toString();
}

describe("pgdump", () => {
  test("a logical backup restores into a new cluster with identical data in every database, roles kept", async () => {
    const uri = await connectionUri(server, "pg-pitr", NS);
    await sql(uri, "create role app_reader nologin");
    await sql(uri, "create database shop");
    await sql(withDatabase(uri, "shop"), "create table orders (id int primary key, total numeric(10,2), note text); insert into orders select g, g * 1.5, 'order ' || g from generate_series(1, 3000) g; grant select on orders to app_reader");
    const expected = await tableChecksums(uri);
    const expectedShop = await tableChecksums(withDatabase(uri, "shop"));
    const started = Date.now();
    await server.ok(["backup", "create", "--cluster", "pg-pitr", "--method", "pgdump", "--name", "pg-pitr-dump", "-n", NS, "--wait", "--timeout", "180s"]);
    numbers["pgdumpBackupSeconds"] = ((Date.now() - started) / 1000).toFixed(1);
    const restoreStarted = Date.now();
    await server.ok(["cluster", "restore", "pg-from-dump", "--backup", "pg-pitr-dump", "-n", NS]);
    await waitRunning("pg-from-dump");
    numbers["pgdumpRestoreSeconds"] = ((Date.now() - restoreStarted) / 1000).toFixed(1);
    const restored = await connectionUri(server, "pg-from-dump", NS);
    assert.deepEqual(await tableChecksums(restored), expected);
    assert.deepEqual(await tableChecksums(withDatabase(restored, "shop")), expectedShop);
    assert.equal(await sql(withDatabase(restored, "shop"), "select has_table_privilege('app_reader', 'orders', 'select')"), "t");
    assert.notEqual(restored, uri, "the new cluster has its own password");
  });
});
