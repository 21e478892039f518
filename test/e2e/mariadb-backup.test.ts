/**
 * Issue 15, done-when 3: MariaDB backups end to end, through the real server, real mariadbd, mariabackup, mbstream and
 * mariadb-binlog, and the local repository:
 * - a mariabackup backup restored into a new cluster gives identical data (CHECKSUM TABLE over every table), with the
 *   new cluster's own password, application accounts kept;
 * - point-in-time recovery with archive-binlog: write A, note the time, write B; the restore has A and not B;
 * - a canary row value is in the database's files but in no repository file (full backup and archived binlog);
 * - one flipped byte in a chunk makes `backup verify` fail naming the chunk.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Backup } from "../../src/api/index.ts";
import { createMariadbEngine } from "../../src/engines/index.ts";
import { clusterCaFile, connectionUri } from "../helpers/clients.ts";
import { eventually, TestServer } from "../helpers/harness.ts";
import { backupOf, filesUnder, waitClusterRunning } from "../helpers/data-protection.ts";
import { exampleWith } from "../helpers/manifests.ts";
import { mariadbOverTls, userTableChecksums } from "../helpers/mariadb-cli.ts";

const installed = await createMariadbEngine().detectVersions();
const skip = installed.length === 0 ? "mariadbd is not installed (Debian: apt-get install -y mariadb-server mariadb-client mariadb-backup)" : false;
if (skip !== false) console.log(`# skipped: ${skip}`);
const version = installed[0]?.version ?? "";
const NS = "demo";
const canary = `holdfast-mariadb-canary-${randomUUID()}`;
const numbers: Record<string, string | number> = {};
let server: TestServer;

async function sql(cluster: string, text: string): Promise<string> {
  const result = await mariadbOverTls(new URL(await connectionUri(server, cluster, NS)), clusterCaFile(server), text);
  assert.equal(result.code, 0, `${text}: ${result.stderr}`);
  return result.stdout.trim();
}

function checksums(cluster: string): Promise<Record<string, string>> {
  return userTableChecksums((text) => sql(cluster, text));
}

function backup(name: string): Promise<Backup> {
  return backupOf(server, NS, name);
}

function waitRunning(cluster: string): Promise<void> {
  return waitClusterRunning(server, NS, cluster);
}

/** The database's clock, RFC 3339 UTC with microseconds. */
const NOW = "SELECT DATE_FORMAT(UTC_TIMESTAMP(6), '%Y-%m-%dT%H:%i:%s.%fZ')";
let sourceSums: Record<string, string>;
let noted: string;

describe("MariaDB mariabackup and archive-binlog", { skip, timeout: 1_200_000 }, () => {
  before(async () => {
    server = await TestServer.start({ initArgs: ["--advertise", "127.0.76.1"], listenHost: "127.0.76.1" });
    await server.ok(["create", "namespace", NS]);
  });

  after(async () => {
    console.log(`mariadb backup numbers: ${JSON.stringify(numbers)}`);
    await server.destroy();
  });

  test("a cluster with data, its archive-binlog Running, then a mariabackup backup Completed", async () => {
    await server.ok(["apply", "-f", "-"], await exampleWith("mariadb/cluster.yaml", (doc) => {
      doc["metadata"].name = "mdb";
      doc["spec"].componentSpecs[0].serviceVersion = version;
    }));
    await waitRunning("mdb");
    await sql("mdb", [
      "CREATE DATABASE app; CREATE DATABASE other; USE app",
      "CREATE TABLE app.accounts (id INT PRIMARY KEY, owner VARCHAR(40) NOT NULL, balance DECIMAL(12,2) NOT NULL) ENGINE=InnoDB",
      "INSERT INTO app.accounts SELECT seq, CONCAT('owner-', seq), (seq * 7 % 10000) / 100 FROM seq_1_to_50000",
      "CREATE TABLE app.events (id BIGINT AUTO_INCREMENT PRIMARY KEY, body JSON NOT NULL, at DATETIME(6) NOT NULL) ENGINE=InnoDB",
      "INSERT INTO app.events (body, at) SELECT JSON_OBJECT('n', seq, 'tag', MD5(seq)), '2024-01-01' + INTERVAL seq MINUTE FROM seq_1_to_20000",
      "CREATE TABLE other.log (id INT PRIMARY KEY, line TEXT) ENGINE=Aria; INSERT INTO other.log SELECT seq, REPEAT(MD5(seq), 4) FROM seq_1_to_5000",
      `CREATE TABLE app.notes (id INT PRIMARY KEY, note TEXT) ENGINE=InnoDB; INSERT INTO app.notes VALUES (1, '${canary}')`,
      "CREATE USER 'appuser'@'%' IDENTIFIED VIA ed25519 USING PASSWORD('app-secret-1'); GRANT SELECT ON app.* TO 'appuser'@'%'",
    ].join("; "));
    sourceSums = await checksums("mdb");
    await eventually("the BackupPolicy", async () => (await server.cli(["get", "backuppolicies", "-n", NS])).stdout.includes("mdb-mariadb-backup-policy") || undefined);
    await server.ok(["backup", "create", "--cluster", "mdb", "--method", "archive-binlog", "--name", "mdb-binlog", "-n", NS]);
    await server.ok(["wait", "backup/mdb-binlog", "-n", NS, "--for=phase=Running", "--timeout=60s"]);
    const started = Date.now();
    await server.ok(["backup", "create", "--cluster", "mdb", "--name", "mdb-full", "-n", NS, "--wait", "--timeout", "300s"]);
    numbers["fullBackupSeconds"] = ((Date.now() - started) / 1000).toFixed(1);
    const full = await backup("mdb-full");
    assert.equal(full.spec.backupMethod, "mariabackup");
    const status = full.status ?? {};
    assert.equal(status.source?.engine, "mariadb");
    numbers["totalSize"] = status.totalSize ?? "";
    numbers["storedSize"] = status.storedSize ?? "";
    assert.ok(Number(status.totalSize) > 5_000_000, `totalSize ${status.totalSize}`);
    assert.ok(Number(status.storedSize) < Number(status.totalSize), "stored compressed");
  });

  test("verify re-reads the whole backup and says it is intact", async () => {
    assert.match(await server.ok(["backup", "verify", "mdb-full", "-n", NS]), /backup mdb-full is intact: (\d+)\/\1 chunks/);
  });

  test("restoring into a new cluster gives identical data in every table, with the new cluster's own password", async () => {
    const started = Date.now();
    await server.ok(["cluster", "restore", "mdb-restored", "--backup", "mdb-full", "-n", NS]);
    await waitRunning("mdb-restored");
    numbers["restoreSeconds"] = ((Date.now() - started) / 1000).toFixed(1);
    assert.deepEqual(await checksums("mdb-restored"), sourceSums);
    assert.notEqual(await connectionUri(server, "mdb-restored", NS), await connectionUri(server, "mdb", NS));
    assert.equal(await sql("mdb-restored", "SELECT COUNT(*) FROM mysql.global_priv WHERE User = 'appuser'"), "1", "application accounts are kept");
    assert.equal(await sql("mdb-restored", "SELECT note FROM app.notes"), canary);
  });

  test("write A, note the time, write B; once the binlog holding B is archived, a restore to the time has A and not B", async () => {
    await sql("mdb", "INSERT INTO app.notes VALUES (2, 'A')");
    await sleep(1500);
    noted = await sql("mdb", NOW);
    await sleep(1500);
    await sql("mdb", "INSERT INTO app.notes VALUES (3, 'B')");
    const bAt = await sql("mdb", NOW);
    const flushed = Date.now();
    await sql("mdb", "FLUSH BINARY LOGS");
    numbers["archivedEnd"] = await eventually("the binlog holding B to be archived", async () => {
      const end = (await backup("mdb-binlog")).status?.timeRange?.end;
      return end !== undefined && Date.parse(end) >= Date.parse(bAt) - 1000 ? end : undefined;
    }, 90_000);
    numbers["archiveDelayAfterFlushMs"] = Date.now() - flushed;
    assert.match(await server.ok(["backup", "list", "-n", NS]), /mdb-binlog\s+mdb\s+archive-binlog\s+Running/);
    await server.ok(["cluster", "restore", "mdb-at-a", "--backup", "mdb-binlog", "--restore-to-time", noted, "-n", NS]);
    await waitRunning("mdb-at-a");
    assert.equal(await sql("mdb-at-a", "SELECT GROUP_CONCAT(note ORDER BY id SEPARATOR ',') FROM app.notes WHERE id > 1"), "A");
    const restoredSums = await checksums("mdb-at-a");
    assert.equal(restoredSums["app.accounts"], sourceSums["app.accounts"]);
    await sql("mdb-at-a", "INSERT INTO app.notes VALUES (4, 'after restore')");
  });

  test("the canary is in the database's files but in no repository file, and the spools are drained", async () => {
    const needle = Buffer.from(canary);
    let inData = false;
    for (const file of await filesUnder(join(server.home, "instances", NS, "mdb-mariadb-0", "data"))) if ((await readFile(file).catch(() => Buffer.alloc(0))).includes(needle)) inData = true;
    assert.ok(inData, "the canary is in the database's own files (binlog), so a plaintext copy would hold it");
    const repositoryFiles = await filesUnder(join(server.home, "backups"));
    assert.ok(repositoryFiles.length > 3);
    for (const file of repositoryFiles) assert.equal((await readFile(file)).includes(needle), false, `${file} holds the canary in plaintext`);
    const spooled = (await filesUnder(join(server.home, "instances", NS))).filter((file) => file.includes("/binlog-spool/") && /mariadb-bin\.\d+$/.test(file));
    assert.deepEqual(spooled, []);
  });

  test("one flipped byte in a chunk: verify exits 1 naming the chunk", async () => {
    const id = (await backup("mdb-full")).status?.path ?? "";
    const chunks = (await filesUnder(join(server.home, "backups", "data", id))).sort();
    const chunkFile = chunks[Math.floor(chunks.length / 2)] ?? "";
    const bytes = await readFile(chunkFile);
    bytes[100] = (bytes[100] ?? 0) ^ 0x01;
    await writeFile(chunkFile, bytes);
    const result = await server.cli(["backup", "verify", "mdb-full", "-n", NS]);
    assert.equal(result.code, 1);
    const relative = chunkFile.slice(join(server.home, "backups").length + 1);
    assert.match(result.stderr, /DAMAGED/);
    assert.ok(result.stderr.includes(`(object ${relative}): checksum`), result.stderr);
    assert.match(result.stderr, /stream (backup\.xbstream|source\.json) chunk \d+/);
  });
});
