/**
 * Incremental backups end to end (issue 16), on real PostgreSQL and the local repository: a full backup, 5% of a
 * table's rows changed, an incremental on it (spec.parentBackupName) that stores a small part of what the full
 * stored; a restore from the incremental equals the source in every table; a missing link of the chain is refused
 * at verify and at restore, naming it; the parent's data stays while an incremental builds on it. The incremental
 * takes the blocks the WAL did not change from the parent unread (an event says so); after a CREATE DATABASE it
 * reads every block instead, and its restore is as exact. Small files whose size and times did not change are left
 * unread; a configuration file rewritten with the same size — even with its mtime set back to what the full saw, as
 * a write in the same second would leave it — is restored with its new content.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFile, rename, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Backup, Instance } from "../../src/api/index.ts";
import { connectionUri, installedPostgresMajor, psql } from "../helpers/clients.ts";
import { eventually, TestServer } from "../helpers/harness.ts";
import { postgresExample } from "../helpers/manifests.ts";

let server: TestServer;
let major: string;
const figures: Record<string, string> = {};

/** This file's own loopback address: its instances listen there, apart from other tests on the machine. */
const ADDRESS = process.env["HOLDFAST_E2E_ADDRESS"] ?? "127.0.93.3";

before(async () => {
  major = await installedPostgresMajor();
  server = await TestServer.start({ initArgs: ["--advertise", ADDRESS], serverArgs: ["--advertise", ADDRESS], listenHost: ADDRESS });
  await server.ok(["create", "namespace", "demo"]);
});

after(async () => {
  console.log(`incremental backup figures: ${JSON.stringify(figures)}`);
  await server.destroy();
});

function backup(name: string): Promise<Backup> {
  return server.api<Backup>(`/apis/dataprotection.kubeblocks.io/v1alpha1/namespaces/demo/backups/${name}`);
}

/** One digest per table of schema public, over all of its rows, in one query. */
async function everyTableDigest(uri: string): Promise<string> {
  const perTable = "format('select md5(coalesce(string_agg(r::text, %L order by r::text), %L)) || %L || count(*) as d from %I r', ',', '', ':', tablename)";
  const result = await psql(uri, `select string_agg(tablename || '=' || (xpath('/row/d/text()', query_to_xml(${perTable}, false, true, '')))[1]::text, ' ' order by tablename) from pg_tables where schemaname = 'public'`);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.trim();
}

/** The notes the backup method left as events on Backup `name`. */
async function methodNotes(name: string): Promise<string> {
  const events = await server.ok(["get", "events", "-n", "demo", "-o", "json"]);
  const items = (JSON.parse(events) as { items?: Array<{ reason?: string; message?: string; involvedObject?: { name?: string } }> }).items ?? [];
  return items.filter((event) => event.reason === "BackupMethodNote" && event.involvedObject?.name === name).map((event) => event.message ?? "").join("\n");
}

/** Rows of accounts found through the index built between the backups (no sequential scan). */
async function throughIndex(uri: string): Promise<string> {
  const result = await psql(uri, "set enable_seqscan = off; set enable_bitmapscan = off; select count(*) || ':' || sum(aid) from accounts where bid between 2 and 4");
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.trim();
}

async function timedBackup(name: string, extra: string[]): Promise<number> {
  const started = Date.now();
  await server.ok(["backup", "create", "--cluster", "pg-cluster", "--name", name, "-n", "demo", "--wait", "--timeout", "300s", ...extra]);
  return (Date.now() - started) / 1000;
}

/** The data directory of instance `name`. */
async function dataDirectoryOf(name: string): Promise<string> {
  const instance = await server.api<Instance>(`/apis/holdfast.io/v1alpha1/namespaces/demo/instances/${name}`);
  return instance.status?.dataDirectory ?? assert.fail(`${name} has no data directory`);
}

/**
 * pg_ident.conf (not managed by Holdfast) with a probe line of `mark`, always the same size. Two large files named
 * to sort just before and after it give it a chunk of its own, so that nothing else in that chunk forces a read.
 */
async function writeIdentProbe(dataDirectory: string, mark: string, original: string): Promise<string> {
  const content = `${original}# probe ${mark.repeat(16)}\n`;
  await writeFile(join(dataDirectory, "pg_ident.conf"), content);
  return content;
}

let sourceDigest: string;
let identOriginal: string;
let identAfterFull: string;
let sourceIndexed: string;
let fullId: string;

describe("an incremental chain", () => {
  test("after 5% of the rows changed, the incremental stores a small part of what the full stored", async () => {
    await server.ok(["apply", "-f", "-"], await postgresExample(major));
    await server.ok(["wait", "cluster/pg-cluster", "-n", "demo", "--for=phase=Running", "--timeout=120s"]);
    const uri = await connectionUri(server, "pg-cluster", "demo");
    const primaryData = await dataDirectoryOf("pg-cluster-postgresql-0");
    identOriginal = await readFile(join(primaryData, "pg_ident.conf"), "utf8");
    for (const filler of ["pg_ident.con", "pg_ident.conf.z"]) await writeFile(join(primaryData, filler), Buffer.alloc(1536 * 1024, 7));
    await writeIdentProbe(primaryData, "a", identOriginal);
    const probeWritten = Date.now();
    const setup = [
      "create table accounts (aid int primary key, bid int not null, abalance int not null, filler text not null)",
      "insert into accounts select g, g / 100000, 0, md5(g::text) from generate_series(1, 1000000) g",
      "create table branches (bid int primary key, note text); insert into branches select g, md5(g::text) from generate_series(0, 10) g",
      // As pgbench -i does: hint bits and the visibility map set once, not by the first read after the full backup.
      "vacuum (freeze, analyze)",
    ];
    for (const sql of setup) assert.equal((await psql(uri, sql)).code, 0);
    await eventually("the BackupPolicy", async () => (await server.cli(["get", "backuppolicies", "-n", "demo"])).stdout.includes("pg-cluster-postgresql-backup-policy") || undefined);
    // The probe's last change lies well before the full's start (the rule's margin is 2 s).
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, probeWritten + 3000 - Date.now())));
    const probe = await stat(join(primaryData, "pg_ident.conf"));
    figures["fullSeconds"] = (await timedBackup("pg-full", [])).toFixed(1);
    // Same size, and the mtime the full saw: the tar header is the full's; only the ctime tells the change.
    identAfterFull = await writeIdentProbe(primaryData, "b", identOriginal);
    await utimes(join(primaryData, "pg_ident.conf"), probe.atime, probe.mtime);
    const changes = [
      "update accounts set abalance = abalance + 7 where aid between 400001 and 450000",
      "insert into accounts select g, g / 100000, 1, md5(g::text) from generate_series(1000001, 1020000) g",
      "create index accounts_bid on accounts (bid)",
      "truncate branches",
      "insert into branches values (1, 'after the truncate')",
      "create table fresh (id int primary key, note text)",
      "insert into fresh select g, repeat('f', 200) from generate_series(1, 30000) g",
    ];
    for (const sql of changes) assert.equal((await psql(uri, sql)).code, 0, sql);
    sourceDigest = await everyTableDigest(uri);
    sourceIndexed = await throughIndex(uri);
    figures["incrementalSeconds"] = (await timedBackup("pg-incr", ["--parent", "pg-full"])).toFixed(1);
    const full = (await backup("pg-full")).status ?? {};
    const incr = (await backup("pg-incr")).status ?? {};
    fullId = full.path ?? "";
    Object.assign(figures, { fullStored: full.storedSize, incrementalStored: incr.storedSize, fullTotal: full.totalSize, incrementalTotal: incr.totalSize });
    assert.ok(Number(incr.totalSize) > 100_000_000, `the incremental still describes the whole database: ${incr.totalSize}`);
    // What it stores is the changed and new pages' chunks and the WAL the backup needs (a 16 MiB segment).
    assert.ok(Number(incr.storedSize) < Number(full.storedSize) * 0.5, `incremental stored ${incr.storedSize} bytes, the full ${full.storedSize}`);
    const notes = await methodNotes("pg-incr");
    figures["incrementalNote"] = notes;
    assert.match(notes, /incremental from the WAL block map .*: [1-9]\d* chunks of relation files taken from the parent unread, [1-9]\d* read/);
    assert.match(notes, /[1-9]\d* small files left unread/);
  });

  test("verify of the incremental checks every chunk of the chain", async () => {
    const out = await server.ok(["backup", "verify", "pg-incr", "-n", "demo"]);
    assert.match(out, /backup pg-incr is intact: (\d+)\/\1 chunks/);
  });

  test("a restore from the incremental equals the source in every table", async () => {
    const started = Date.now();
    await server.ok(["cluster", "restore", "pg-from-incr", "--backup", "pg-incr", "-n", "demo"]);
    await server.ok(["wait", "cluster/pg-from-incr", "-n", "demo", "--for=phase=Running", "--timeout=300s"]);
    figures["restoreSeconds"] = ((Date.now() - started) / 1000).toFixed(1);
    const restoredUri = await connectionUri(server, "pg-from-incr", "demo");
    assert.equal(await everyTableDigest(restoredUri), sourceDigest);
    assert.equal(await throughIndex(restoredUri), sourceIndexed);
    // The node agent read the primary's data directory itself (not pg_basebackup): its label survives recovery.
    const restored = await server.api<Instance>("/apis/holdfast.io/v1alpha1/namespaces/demo/instances/pg-from-incr-postgresql-0");
    const label = await readFile(join(restored.status?.dataDirectory ?? "", "backup_label.old"), "utf8");
    assert.match(label, /^LABEL: holdfast$/m);
    assert.equal(await readFile(join(restored.status?.dataDirectory ?? "", "pg_ident.conf"), "utf8"), identAfterFull, "the rewrite with the full's size and mtime was read");
    await server.ok(["delete", "cluster", "pg-from-incr", "-n", "demo", "--wait", "--timeout=120s"]);
  });

  test("after a CREATE DATABASE the next incremental reads every block, and restores as exactly", async () => {
    const uri = await connectionUri(server, "pg-cluster", "demo");
    for (const sql of ["create database other", "update accounts set abalance = abalance - 3 where aid between 10 and 20000"]) assert.equal((await psql(uri, sql)).code, 0, sql);
    const identNow = await writeIdentProbe(await dataDirectoryOf("pg-cluster-postgresql-0"), "c", identOriginal);
    const digest = await everyTableDigest(uri);
    figures["refusedSeconds"] = (await timedBackup("pg-incr-db", ["--parent", "pg-incr"])).toFixed(1);
    const notes = await methodNotes("pg-incr-db");
    figures["refusedNote"] = notes;
    assert.match(notes, /incremental read every block \(page LSNs decide\): a database or tablespace was created or dropped/);
    await server.ok(["cluster", "restore", "pg-from-incr-db", "--backup", "pg-incr-db", "-n", "demo"]);
    await server.ok(["wait", "cluster/pg-from-incr-db", "-n", "demo", "--for=phase=Running", "--timeout=300s"]);
    const restored = await connectionUri(server, "pg-from-incr-db", "demo");
    assert.equal(await everyTableDigest(restored), digest);
    assert.equal((await psql(restored, "select count(*) from pg_database where datname = 'other'")).stdout.trim(), "1");
    assert.equal(await readFile(join(await dataDirectoryOf("pg-from-incr-db-postgresql-0"), "pg_ident.conf"), "utf8"), identNow, "a plain same-size rewrite was read");
    await server.ok(["delete", "cluster", "pg-from-incr-db", "-n", "demo", "--wait", "--timeout=120s"]);
    await server.ok(["backup", "delete", "pg-incr-db", "-n", "demo"]);
  });

  test("with the full's manifest gone, verify and restore of the incremental refuse, naming the full", async () => {
    const manifest = join(server.home, "backups", "manifests", `${fullId}.json`);
    const aside = `${manifest}.aside`;
    await rename(manifest, aside);
    try {
      const verified = await server.cli(["backup", "verify", "pg-incr", "-n", "demo"]);
      assert.equal(verified.code, 1);
      assert.ok(verified.stderr.includes(`backup ${fullId} (object manifests/${fullId}.json)`), verified.stderr);
      assert.match(verified.stderr, /link of the incremental chain/);
      await server.ok(["cluster", "restore", "pg-broken-chain", "--backup", "pg-incr", "-n", "demo"]);
      const failed = await eventually("the restore to fail", async () => {
        const pod = await server.api<Instance>("/apis/holdfast.io/v1alpha1/namespaces/demo/instances/pg-broken-chain-postgresql-0");
        return pod.status?.phase === "Failed" ? pod : undefined;
      }, 120_000);
      assert.ok((failed.status?.message ?? "").includes(`manifests/${fullId}.json`), failed.status?.message);
      assert.equal(failed.status?.pid, undefined);
      await server.ok(["delete", "cluster", "pg-broken-chain", "-n", "demo", "--wait", "--timeout=120s"]);
    } finally {
      await rename(aside, manifest);
    }
  });

  test("deleting the full keeps its data while the incremental builds on it", async () => {
    await server.ok(["backup", "delete", "pg-full", "-n", "demo"]);
    await eventually("the full to be Deleting", async () => ((await backup("pg-full")).status?.phase === "Deleting" ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await stat(join(server.home, "backups", "manifests", `${fullId}.json`));
    assert.equal((await backup("pg-full")).status?.phase, "Deleting");
    await server.ok(["backup", "delete", "pg-incr", "-n", "demo"]);
    await eventually("both to go", async () => ((await server.fetch("/apis/dataprotection.kubeblocks.io/v1alpha1/namespaces/demo/backups/pg-full")).status === 404 ? true : undefined), 60_000);
    await assert.rejects(readFile(join(server.home, "backups", "manifests", `${fullId}.json`)), /ENOENT/);
  });
});
