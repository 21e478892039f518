/**
 * Data protection end to end, against real PostgreSQL and Redis and the local repository:
 * done-when 1 (the PostgreSQL backup example reaches Completed; restoring it into a new cluster gives identical data,
 * table by table), 3 (one flipped byte: verify fails naming the chunk; a restore from it fails without starting),
 * 4 (a known row value is found nowhere in the repository), 5 (Redis datafile round trip), and a control plane
 * killed mid-backup never leaves a Completed backup that is not whole. A restored cluster refuses the backup's
 * password and takes its own, its server killed during its first start included (ADR 0050).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Backup, Instance } from "../../src/api/index.ts";
import { runBackup } from "../../src/cli/backup.ts";
import { describeError } from "../../src/cli/output.ts";
import { connectionUri, psql, redisCli, redisConnection, startDemoServer } from "../helpers/clients.ts";
import { eventually, processesInside, type CliResult, type TestServer } from "../helpers/harness.ts";
import { exampleWith, postgresExample } from "../helpers/manifests.ts";

let server: TestServer;
let major: string;
const timings: Record<string, string> = {};

before(async () => {
  ({ server, major } = await startDemoServer());
});

after(async () => {
  console.log(`backup/restore timings: ${JSON.stringify(timings)}`);
  await server.destroy();
});

/** `holdfast backup ...`, run in-process with the test home's CLI configuration. */
async function backupCli(args: string[]): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const ctx = {
    io: { out: (text: string) => void out.push(text), err: (text: string) => void err.push(text), errIsTTY: false },
    env: { ...process.env, HOLDFAST_HOME: server.home, HOLDFAST_SERVER: server.url },
    now: () => new Date(),
  };
  let code: number;
  try {
    code = await runBackup(ctx, args);
  } catch (error) {
    const described = describeError(error);
    err.push(described.text);
    code = described.exitCode;
  }
  return { code, stdout: out.join(""), stderr: err.join("") };
}

async function backupOk(args: string[]): Promise<string> {
  const result = await backupCli(args);
  if (result.code !== 0) throw new Error(`holdfast backup ${args.join(" ")} exited ${result.code}\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

function backup(name: string): Promise<Backup> {
  return server.api<Backup>(`/apis/dataprotection.kubeblocks.io/v1alpha1/namespaces/demo/backups/${name}`);
}

function instance(name: string): Promise<Instance> {
  return server.api<Instance>(`/apis/holdfast.io/v1alpha1/namespaces/demo/instances/${name}`);
}

/** Every regular file below a directory. */
async function filesUnder(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** md5 of every row of every table in schema public, by table. */
async function tableChecksums(uri: string): Promise<Record<string, string>> {
  const tables = (await psql(uri, "select tablename from pg_tables where schemaname = 'public' order by 1")).stdout.trim().split("\n").filter((t) => t !== "");
  const sums: Record<string, string> = {};
  for (const table of tables) {
    const result = await psql(uri, `select count(*) || ':' || coalesce(md5(string_agg(x::text, ',' order by x::text)), '') from "${table}" x`);
    assert.equal(result.code, 0, result.stderr);
    sums[table] = result.stdout.trim();
  }
  return sums;
}

/** The restored cluster at `uri` refuses the password of the backup's cluster (`sourceUri`'s) and takes its own. */
async function assertOnlyNewPassword(uri: string, sourceUri: string): Promise<void> {
  const withOldPassword = new URL(uri);
  withOldPassword.password = new URL(sourceUri).password;
  assert.notEqual(withOldPassword.password, new URL(uri).password);
  const refused = await psql(withOldPassword.toString(), "select 1");
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /password authentication failed/);
  assert.equal((await psql(uri, "select 1")).stdout.trim(), "1");
}

const canary = `holdfast-canary-${randomUUID()}`;
let sourceSums: Record<string, string>;

describe("PostgreSQL pg-basebackup", () => {
  test("the cluster gets its BackupPolicy, and the KubeBlocks backup example reaches Completed", async () => {
    await server.ok(["apply", "-f", "-"], await postgresExample(major));
    await server.ok(["wait", "cluster/pg-cluster", "-n", "demo", "--for=phase=Running", "--timeout=120s"]);
    const uri = await connectionUri(server, "pg-cluster", "demo");
    const setup = [
      "create table accounts (id int primary key, owner text not null, balance numeric(12,2) not null)",
      "insert into accounts select g, 'owner-' || g, (g * 7 % 10000) / 100.0 from generate_series(1, 50000) g",
      "create table events (id bigserial primary key, body jsonb not null, at timestamptz not null)",
      "insert into events (body, at) select jsonb_build_object('n', g, 'tag', md5(g::text)), '2024-01-01'::timestamptz + g * interval '1 minute' from generate_series(1, 20000) g",
      `create table notes (id int primary key, note text); insert into notes values (1, '${canary}')`,
    ];
    for (const sql of setup) assert.equal((await psql(uri, sql)).code, 0);
    sourceSums = await tableChecksums(uri);
    await eventually("the BackupPolicy", async () => (await server.cli(["get", "backuppolicies", "-n", "demo"])).stdout.includes("pg-cluster-postgresql-backup-policy") || undefined);
    const started = Date.now();
    await server.ok(["apply", "-f", "-"], await exampleWith("postgresql/backup-pg-basebasekup.yaml", () => undefined));
    await server.ok(["wait", "backup/pg-cluster-pg-basebackup", "-n", "demo", "--for=phase=Completed", "--timeout=180s"]);
    timings["pgBackupSeconds"] = ((Date.now() - started) / 1000).toFixed(1);
  });

  test("its status reports what KubeBlocks reports, and get, list and the repository show it", async () => {
    const done = await backup("pg-cluster-pg-basebackup");
    const status = done.status ?? {};
    assert.equal(status.backupRepoName, "local");
    assert.match(status.manifestSha256 ?? "", /^[0-9a-f]{64}$/);
    assert.ok(Number(status.totalSize) > 10_000_000, `totalSize ${status.totalSize}`);
    assert.ok(Number(status.storedSize) < Number(status.totalSize), "stored compressed");
    assert.match(status.duration ?? "", /^[0-9hm.]+s$/);
    assert.ok(status.timeRange?.start !== undefined && status.timeRange.end !== undefined);
    assert.equal(status.source?.engine, "postgresql");
    timings["pgTotalSize"] = status.totalSize ?? "";
    timings["pgStoredSize"] = status.storedSize ?? "";
    timings["pgDuration"] = status.duration ?? "";
    assert.match(await server.ok(["get", "backups", "-n", "demo"]), /pg-cluster-pg-basebackup\s+pg-cluster-postgresql-backup-policy\s+pg-basebackup\s+local\s+Completed/);
    const repo = await server.api<{ status?: { phase?: string; isDefault?: boolean } }>("/apis/dataprotection.kubeblocks.io/v1alpha1/backuprepos/local");
    assert.deepEqual([repo.status?.phase, repo.status?.isDefault], ["Ready", true]);
    const listed = await backupOk(["list", "-n", "demo"]);
    assert.match(listed, /pg-cluster-pg-basebackup\s+pg-cluster\s+pg-basebackup\s+Completed/);
  });

  test("a known row value is in the database's files but nowhere in the repository", async () => {
    const uri = await connectionUri(server, "pg-cluster", "demo");
    await psql(uri, "checkpoint");
    const needle = Buffer.from(canary);
    const dataFiles = await filesUnder(join(server.home, "instances", "demo", "pg-cluster-postgresql-0", "data"));
    let inData = false;
    for (const file of dataFiles) if ((await readFile(file).catch(() => Buffer.alloc(0))).includes(needle)) inData = true;
    assert.ok(inData, "the canary is in the database's own files, so a plaintext backup would contain it");
    const repositoryFiles = await filesUnder(join(server.home, "backups"));
    assert.ok(repositoryFiles.length > 3);
    for (const file of repositoryFiles) assert.equal((await readFile(file)).includes(needle), false, `${file} holds the row value in plaintext`);
  });

  test("verify re-reads the whole backup and says it is intact", async () => {
    const out = await backupOk(["verify", "pg-cluster-pg-basebackup", "-n", "demo"]);
    assert.match(out, /backup pg-cluster-pg-basebackup is intact: (\d+)\/\1 chunks/);
  });

  test("restoring into a new cluster gives identical data in every table, with the new cluster's own password", async () => {
    const started = Date.now();
    await server.ok(["cluster", "restore", "pg-restored", "--backup", "pg-cluster-pg-basebackup", "-n", "demo"]);
    await server.ok(["wait", "cluster/pg-restored", "-n", "demo", "--for=phase=Running", "--timeout=180s"]);
    timings["pgRestoreSeconds"] = ((Date.now() - started) / 1000).toFixed(1);
    const uri = await connectionUri(server, "pg-restored", "demo");
    assert.deepEqual(await tableChecksums(uri), sourceSums);
    const sourceUri = await connectionUri(server, "pg-cluster", "demo");
    assert.notEqual(uri, sourceUri);
    await assertOnlyNewPassword(uri, sourceUri);
    const described = await server.ok(["describe", "cluster", "pg-restored", "-n", "demo"]);
    assert.match(described, /Restored/);
  });

  test("its server killed during the first start, before the passwords were set: the next start still refuses the old password", async () => {
    await server.ok(["cluster", "restore", "pg-crashed", "--backup", "pg-cluster-pg-basebackup", "-n", "demo"]);
    const data = join(server.home, "instances", "demo", "pg-crashed-postgresql-0", "data");
    // The restore's durable "passwords pending" file, and a postmaster started on the data: kill it there.
    // Looked at every 5 ms: the window (recovery, then the setup) lasts a few hundred ms.
    const deadline = Date.now() + 120_000;
    let pid = 0;
    while (pid === 0 && Date.now() < deadline) {
      const pending = await stat(join(data, ".holdfast-passwords-pending")).then(() => true, () => false);
      const postmaster = Number((await readFile(join(data, "postmaster.pid"), "utf8").catch(() => "")).split("\n")[0]);
      if (pending && postmaster > 0) pid = postmaster;
      else await sleep(5);
    }
    assert.ok(pid > 0, "a postmaster ran on the restored data while its passwords were pending");
    process.kill(pid, "SIGKILL");
    await server.ok(["wait", "cluster/pg-crashed", "-n", "demo", "--for=phase=Running", "--timeout=180s"]);
    const pod = await instance("pg-crashed-postgresql-0");
    assert.ok((pod.status?.restartCount ?? 0) >= 1, `the killed server was started again: ${JSON.stringify(pod.status)}`);
    assert.equal(await stat(join(data, ".holdfast-passwords-pending")).then(() => true, () => false), false);
    const uri = await connectionUri(server, "pg-crashed", "demo");
    await assertOnlyNewPassword(uri, await connectionUri(server, "pg-cluster", "demo"));
    assert.deepEqual(await tableChecksums(uri), sourceSums);
    await server.ok(["delete", "cluster", "pg-crashed", "-n", "demo", "--wait", "--timeout=120s"]);
  });
});

describe("a damaged backup", () => {
  let chunkFile: string;

  test("one flipped byte in a chunk: verify exits 1 naming the chunk", async () => {
    await backupOk(["create", "--cluster", "pg-cluster", "--name", "pg-damaged", "-n", "demo", "--wait", "--timeout", "180s"]);
    const id = (await backup("pg-damaged")).status?.path ?? "";
    const chunks = (await filesUnder(join(server.home, "backups", "data", id))).sort();
    chunkFile = chunks[Math.floor(chunks.length / 2)] ?? "";
    const bytes = await readFile(chunkFile);
    bytes[100] = (bytes[100] ?? 0) ^ 0x01;
    await writeFile(chunkFile, bytes);
    const result = await backupCli(["verify", "pg-damaged", "-n", "demo"]);
    assert.equal(result.code, 1);
    const relative = chunkFile.slice(join(server.home, "backups").length + 1);
    assert.match(result.stderr, /DAMAGED/);
    assert.match(result.stderr, /stream base\.tar chunk \d+ \(object data\/[^)]+\): checksum/);
    assert.ok(result.stderr.includes(`(object ${relative}): checksum`), result.stderr);
  });

  test("one flipped byte in the manifest: verify exits 1 naming the manifest", async () => {
    const id = (await backup("pg-damaged")).status?.path ?? "";
    const manifest = join(server.home, "backups", "manifests", `${id}.json`);
    const original = await readFile(manifest);
    const changed = Buffer.from(original);
    changed[Math.floor(changed.length / 2)] = (changed[Math.floor(changed.length / 2)] ?? 0) ^ 0x01;
    await writeFile(manifest, changed);
    const result = await backupCli(["verify", "pg-damaged", "-n", "demo"]);
    await writeFile(manifest, original);
    assert.equal(result.code, 1);
    assert.ok(result.stderr.includes(`manifest (object manifests/${id}.json)`), result.stderr);
  });

  test("a restore from it fails cleanly: the instance never starts and says why", async () => {
    await server.ok(["cluster", "restore", "pg-from-damaged", "--backup", "pg-damaged", "-n", "demo"]);
    const failed = await eventually("the restore to fail", async () => {
      const pod = await instance("pg-from-damaged-postgresql-0");
      return pod.status?.phase === "Failed" ? pod : undefined;
    }, 120_000);
    assert.match(failed.status?.message ?? "", /backup demo\/pg-damaged is damaged, so the instance is not started on it: .*chunk \d+/);
    assert.equal(failed.status?.pid, undefined);
    const restored = await eventually("the Restored condition", async () => (await instance("pg-from-damaged-postgresql-0")).status?.conditions?.find((c) => c.type === "Restored"));
    assert.equal(restored.status, "False");
    assert.equal(restored.reason, "BackupDamaged");
    await sleep(3000);
    const later = await instance("pg-from-damaged-postgresql-0");
    assert.notEqual(later.status?.ready, true);
    const root = join(server.home, "instances", "demo", "pg-from-damaged-postgresql-0");
    assert.deepEqual(await processesInside(root), [], "no postgres runs on the damaged data");
    const described = await server.ok(["describe", "cluster", "pg-from-damaged", "-n", "demo"]);
    assert.match(described, /InitFailed/);
    assert.match(described, /damaged/);
    await server.ok(["delete", "cluster", "pg-from-damaged", "-n", "demo", "--wait", "--timeout=120s"]);
  });

  test("an editor may take and verify backups but not delete one; an admin's delete removes its data and is audited", async () => {
    await server.ok(["user", "create", "editor", "-o", "json"]);
    const binding = "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: editor-edit, namespace: demo}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}\nsubjects: [{kind: User, apiGroup: rbac.authorization.k8s.io, name: editor}]\n";
    await server.ok(["apply", "-f", "-"], binding);
    const token = (JSON.parse(await server.ok(["token", "create", "--name", "e2e", "--expires", "1h", "--user", "editor", "-o", "json"])) as { token: string }).token;
    const path = "/apis/dataprotection.kubeblocks.io/v1alpha1/namespaces/demo/backups";
    const body = JSON.stringify({ apiVersion: "dataprotection.kubeblocks.io/v1alpha1", kind: "Backup", metadata: { name: "by-editor" }, spec: { backupPolicyName: "pg-cluster-postgresql-backup-policy", backupMethod: "pg-basebackup" } });
    assert.equal((await server.fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body }, token)).status, 201);
    assert.equal((await server.fetch(`${path}/pg-damaged/verify`, { method: "POST" }, token)).status, 200);
    assert.equal((await server.fetch(`${path}/pg-damaged`, { method: "DELETE" }, token)).status, 403);

    const id = (await backup("pg-damaged")).status?.path ?? "";
    await backupOk(["delete", "pg-damaged", "-n", "demo"]);
    await eventually("the backup to go", async () => ((await server.fetch(`/apis/dataprotection.kubeblocks.io/v1alpha1/namespaces/demo/backups/pg-damaged`)).status === 404 ? true : undefined));
    assert.deepEqual(await filesUnder(join(server.home, "backups", "data", id)), []);
    await assert.rejects(stat(join(server.home, "backups", "manifests", `${id}.json`)), /ENOENT/);
    const audit = JSON.parse(await server.ok(["audit", "list", "--verb", "delete", "--resource", "backups", "-o", "json"])) as { items: { user?: { username?: string }; objectRef?: { name?: string }; responseStatus?: { code?: number } }[] };
    const deletes = audit.items.filter((e) => e.objectRef?.name === "pg-damaged").map((e) => e.responseStatus?.code);
    assert.ok(deletes.includes(403) && deletes.some((code) => code !== undefined && code < 300), JSON.stringify(audit.items));
  });
});

describe("Redis datafile", () => {
  test("backup and restore round-trip the keyspace", async () => {
    await server.ok(["apply", "-f", "-"], await exampleWith("redis/cluster-standalone.yaml", () => undefined));
    await server.ok(["wait", "cluster/redis-standalone", "-n", "demo", "--for=phase=Running", "--timeout=120s"]);
    const uri = await redisConnection(server, "redis-standalone", "demo");
    const pairs = Array.from({ length: 500 }, (_, i) => [`key:${i}`, `value-${i}-${"x".repeat(i % 50)}`]).flat();
    assert.equal((await redisCli(uri, "MSET", ...pairs)).stdout.trim(), "OK");
    await redisCli(uri, "RPUSH", "queue", "a", "b", "c");
    await redisCli(uri, "HSET", "user:1", "name", "ada", "lang", "en");
    await server.ok(["apply", "-f", "-"], await exampleWith("redis/backup.yaml", (doc) => {
      doc["metadata"].name = "redis-backup";
      doc["spec"].backupPolicyName = "redis-standalone-redis-backup-policy";
    }));
    await server.ok(["wait", "backup/redis-backup", "-n", "demo", "--for=phase=Completed", "--timeout=120s"]);
    await server.ok(["cluster", "restore", "redis-restored", "--backup", "redis-backup", "-n", "demo"]);
    await server.ok(["wait", "cluster/redis-restored", "-n", "demo", "--for=phase=Running", "--timeout=120s"]);
    const restored = await redisConnection(server, "redis-restored", "demo");
    assert.equal((await redisCli(restored, "DBSIZE")).stdout.trim(), "502");
    assert.equal((await redisCli(restored, "GET", "key:499")).stdout.trim(), `value-499-${"x".repeat(499 % 50)}`);
    assert.equal((await redisCli(restored, "LRANGE", "queue", "0", "-1")).stdout.trim(), "a\nb\nc");
    assert.equal((await redisCli(restored, "HGET", "user:1", "name")).stdout.trim(), "ada");
  });
});

describe("the control plane killed mid-backup", () => {
  test("the backup ends Failed with its partial data removed, never Completed", async () => {
    const uri = await connectionUri(server, "pg-cluster", "demo");
    assert.equal((await psql(uri, "create table bulk as select g as id, md5(g::text) || md5((g+1)::text) as v from generate_series(1, 1500000) g")).code, 0);
    await backupOk(["create", "--cluster", "pg-cluster", "--name", "pg-interrupted", "-n", "demo"]);
    const id = await eventually("the backup to run", async () => (await backup("pg-interrupted")).status?.path, 60_000);
    await eventually("chunks in the repository", async () => ((await filesUnder(join(server.home, "backups", "data", id))).length > 0 ? true : undefined), 60_000);
    await server.kill();
    await server.startProcess();
    const settled = await eventually("the backup to be settled", async () => {
      const now = await backup("pg-interrupted");
      return now.status?.phase === "Running" ? undefined : now;
    }, 60_000);
    assert.equal(settled.status?.phase, "Failed", `a backup cut short must not be Completed: ${JSON.stringify(settled.status)}`);
    assert.match(settled.status.failureReason ?? "", /node agent on node \S+ stopped while this backup was running/);
    assert.deepEqual(await filesUnder(join(server.home, "backups", "data", id)), []);
  });

  test("a whole backup of the larger database, and its restore, for the record", async () => {
    const started = Date.now();
    await backupOk(["create", "--cluster", "pg-cluster", "--name", "pg-large", "-n", "demo", "--wait", "--timeout", "300s"]);
    timings["largeBackupSeconds"] = ((Date.now() - started) / 1000).toFixed(1);
    assert.deepEqual(await filesUnder(join(server.home, "run", "backup")), [], "no credential file of the killed backup or this one is left");
    const status = (await backup("pg-large")).status ?? {};
    timings["largeTotalSize"] = status.totalSize ?? "";
    timings["largeStoredSize"] = status.storedSize ?? "";
    timings["largeDuration"] = status.duration ?? "";
    const restoreStarted = Date.now();
    await server.ok(["cluster", "restore", "pg-large-restored", "--backup", "pg-large", "-n", "demo"]);
    await server.ok(["wait", "cluster/pg-large-restored", "-n", "demo", "--for=phase=Running", "--timeout=300s"]);
    timings["largeRestoreSeconds"] = ((Date.now() - restoreStarted) / 1000).toFixed(1);
    const source = await connectionUri(server, "pg-cluster", "demo");
    const restored = await connectionUri(server, "pg-large-restored", "demo");
    const sum = "select count(*) || ':' || md5(string_agg(v, ',' order by id)) from bulk";
    assert.equal((await psql(restored, sum)).stdout, (await psql(source, sum)).stdout);
  });
});
