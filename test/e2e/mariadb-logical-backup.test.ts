/**
 * Issue 15: MariaDB logical backups (`mariadb-dump`) and the least-privilege backup account, end to end through the
 * real server, mariadb-dump, mariabackup and the `mariadb` client:
 * - the BackupPolicy names the backup account `kbdataprotection`, which reads but cannot write; an instance that lost
 *   it (a data directory made before it existed) gets it back when it starts;
 * - a mariabackup backup logs in as that account (the server's USER_STATISTICS count its connections);
 * - a mariadb-dump backup restored into a new cluster gives identical data (CHECKSUM TABLE of every user table), with
 *   routines, events, triggers and views, and the new cluster's own passwords; `backup verify` passes; a canary row
 *   value is in no repository file.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Backup, BackupPolicy } from "../../src/api/index.ts";
import { createMariadbEngine } from "../../src/engines/index.ts";
import { clusterCaFile, connectionUri } from "../helpers/clients.ts";
import { eventually, TestServer, type CliResult } from "../helpers/harness.ts";
import { backupOf, filesUnder, waitClusterRunning } from "../helpers/data-protection.ts";
import { exampleWith } from "../helpers/manifests.ts";
import { mariadbOverTls, userTableChecksums } from "../helpers/mariadb-cli.ts";

const installed = await createMariadbEngine().detectVersions();
const skip = installed.length === 0 ? "mariadbd is not installed (Debian: apt-get install -y mariadb-server mariadb-client mariadb-backup)" : false;
if (skip !== false) console.log(`# skipped: ${skip}`);
const version = installed[0]?.version ?? "";
const NS = "demo";
const BACKUP_ACCOUNT = "kbdataprotection";
const canary = `holdfast-mariadb-dump-canary-${randomUUID()}`;
const numbers: Record<string, string | number> = {};
let server: TestServer;

/** The URI of `account` (the administrator by default) of `cluster`. */
async function uriOf(cluster: string, account?: string): Promise<URL> {
  if (account === undefined) return new URL(await connectionUri(server, cluster, NS));
  return new URL((await server.ok(["cluster", "connect", cluster, "-n", NS, "--account", account, "--show-uri"])).trim());
}

function client(url: URL, text: string): Promise<CliResult> {
  return mariadbOverTls(url, clusterCaFile(server), text);
}

async function sql(cluster: string, text: string, account?: string): Promise<string> {
  const result = await client(await uriOf(cluster, account), text);
  assert.equal(result.code, 0, `${text}: ${result.stderr}`);
  return result.stdout.trim();
}

function checksums(cluster: string): Promise<Record<string, string>> {
  return userTableChecksums((text) => sql(cluster, text));
}

/** The routines, events, triggers and views of the application database, by kind and name. */
function objects(cluster: string): Promise<string> {
  return sql(cluster, [
    "SELECT CONCAT_WS(',',",
    "(SELECT GROUP_CONCAT(CONCAT(routine_type, ':', routine_name) ORDER BY 1) FROM information_schema.routines WHERE routine_schema = 'app'),",
    "(SELECT GROUP_CONCAT(CONCAT('EVENT:', event_name)) FROM information_schema.events WHERE event_schema = 'app'),",
    "(SELECT GROUP_CONCAT(CONCAT('TRIGGER:', trigger_name)) FROM information_schema.triggers WHERE trigger_schema = 'app'),",
    "(SELECT GROUP_CONCAT(CONCAT('VIEW:', table_name)) FROM information_schema.views WHERE table_schema = 'app'))",
  ].join(" "));
}

function backup(name: string): Promise<Backup> {
  return backupOf(server, NS, name);
}

function waitRunning(cluster: string): Promise<void> {
  return waitClusterRunning(server, NS, cluster);
}

let sourceSums: Record<string, string>;
let sourceObjects: string;

describe("MariaDB mariadb-dump and the backup account", { skip, timeout: 1_200_000 }, () => {
  before(async () => {
    server = await TestServer.start({ initArgs: ["--advertise", "127.0.81.1"], listenHost: "127.0.81.1" });
    await server.ok(["create", "namespace", NS]);
  });

  after(async () => {
    console.log(`mariadb logical backup numbers: ${JSON.stringify(numbers)}`);
    await server.destroy();
  });

  test("a cluster with data, routines, events, triggers and views; its BackupPolicy names the backup account and lists mariadb-dump", async () => {
    await server.ok(["apply", "-f", "-"], await exampleWith("mariadb/cluster.yaml", (doc) => {
      doc["metadata"].name = "mdl";
      doc["spec"].componentSpecs[0].serviceVersion = version;
    }));
    await waitRunning("mdl");
    await sql("mdl", [
      // The seq_1_to_N tables of the Sequence engine are in the current database.
      "CREATE DATABASE app; CREATE DATABASE other; USE app",
      "CREATE TABLE app.accounts (id INT PRIMARY KEY, owner VARCHAR(40) NOT NULL, balance DECIMAL(12,2) NOT NULL) ENGINE=InnoDB",
      "INSERT INTO app.accounts SELECT seq, CONCAT('owner-', seq), (seq * 7 % 10000) / 100 FROM seq_1_to_30000",
      "CREATE TABLE app.events (id BIGINT AUTO_INCREMENT PRIMARY KEY, body JSON NOT NULL, raw VARBINARY(16) NOT NULL, at DATETIME(6) NOT NULL) ENGINE=InnoDB",
      "INSERT INTO app.events (body, raw, at) SELECT JSON_OBJECT('n', seq, 'tag', MD5(seq)), UNHEX(MD5(seq)), '2024-01-01' + INTERVAL seq MINUTE FROM seq_1_to_20000",
      "CREATE TABLE other.log (id INT PRIMARY KEY, line TEXT) ENGINE=Aria; INSERT INTO other.log SELECT seq, REPEAT(MD5(seq), 4) FROM seq_1_to_5000",
      `CREATE TABLE app.notes (id INT PRIMARY KEY, note TEXT) ENGINE=InnoDB; INSERT INTO app.notes VALUES (1, '${canary}')`,
      "CREATE TABLE app.audit (id INT AUTO_INCREMENT PRIMARY KEY, account INT NOT NULL) ENGINE=InnoDB",
      "CREATE TRIGGER app.accounts_audit AFTER UPDATE ON app.accounts FOR EACH ROW INSERT INTO app.audit (account) VALUES (NEW.id)",
      "CREATE FUNCTION app.doubled(x INT) RETURNS INT DETERMINISTIC RETURN x * 2",
      "CREATE EVENT app.nightly ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 00:00:00' DISABLE DO DELETE FROM app.audit",
      "CREATE VIEW app.rich AS SELECT id, owner FROM app.accounts WHERE balance > 90",
      "UPDATE app.accounts SET balance = balance + 1 WHERE id <= 10",
    ].join("; "));
    sourceSums = await checksums("mdl");
    sourceObjects = await objects("mdl");
    assert.equal(sourceObjects, "FUNCTION:doubled,EVENT:nightly,TRIGGER:accounts_audit,VIEW:rich");
    const policy = await eventually("the BackupPolicy", () => server.api<BackupPolicy>(`/apis/dataprotection.kubeblocks.io/v1alpha1/namespaces/${NS}/backuppolicies/mdl-mariadb-backup-policy`).catch(() => undefined));
    assert.equal(policy.spec.target?.connectionCredential?.secretName, `mdl-mariadb-account-${BACKUP_ACCOUNT}`);
    assert.deepEqual(policy.spec.backupMethods.map((m) => m.name), ["mariabackup", "mariadb-dump", "archive-binlog"]);
  });

  test("the backup account reads and locks but cannot write or grant", async () => {
    assert.equal(await sql("mdl", "SELECT COUNT(*) FROM app.accounts", BACKUP_ACCOUNT), "30000");
    const grants = await sql("mdl", "SHOW GRANTS", BACKUP_ACCOUNT);
    assert.equal(grants.split("\n").length, 1, `one grant, on *.*: ${grants}`);
    const global = /^GRANT (.+?) ON \*\.\* TO `kbdataprotection`@`%`/.exec(grants)?.[1] ?? grants;
    assert.deepEqual(global.split(", ").sort(), ["BINLOG MONITOR", "EVENT", "LOCK TABLES", "PROCESS", "RELOAD", "SELECT", "SHOW VIEW", "SLAVE MONITOR", "TRIGGER"]);
    assert.ok(!grants.includes("WITH GRANT OPTION"), grants);
    for (const write of ["INSERT INTO app.notes VALUES (99, 'x')", "CREATE DATABASE sneaky", "CREATE USER sneaky IDENTIFIED BY 'x'"]) {
      const refused = await client(await uriOf("mdl", BACKUP_ACCOUNT), write);
      assert.notEqual(refused.code, 0, `${write} was accepted`);
      assert.match(refused.stderr, /denied/i);
    }
  });

  test("an instance without the backup account (made before it existed) gets it back with its Secret's password when it starts", async () => {
    await sql("mdl", `DROP USER '${BACKUP_ACCOUNT}'@'%'`);
    assert.notEqual((await client(await uriOf("mdl", BACKUP_ACCOUNT), "SELECT 1")).code, 0);
    assert.equal((await server.cli(["cluster", "restart", "mdl", "-n", NS, "--component", "mariadb", "--wait"])).code, 0);
    await waitRunning("mdl");
    await eventually("the backup account to be back", async () => ((await client(await uriOf("mdl", BACKUP_ACCOUNT), "SELECT 1")).code === 0 ? true : undefined), 60_000);
  });

  test("mariabackup logs in as the backup account, not the administrator", async () => {
    await sql("mdl", "SET GLOBAL userstat = 1; FLUSH USER_STATISTICS");
    await server.ok(["backup", "create", "--cluster", "mdl", "--method", "mariabackup", "--name", "mdl-physical", "-n", NS, "--wait", "--timeout", "300s"]);
    assert.equal((await backup("mdl-physical")).spec.backupMethod, "mariabackup");
    const connections = await sql("mdl", `SELECT TOTAL_CONNECTIONS FROM information_schema.USER_STATISTICS WHERE USER = '${BACKUP_ACCOUNT}'`);
    numbers["backupAccountConnections"] = connections;
    assert.ok(Number(connections) >= 1, `the backup account connected ${connections} times`);
    assert.match(await server.ok(["backup", "verify", "mdl-physical", "-n", NS]), /backup mdl-physical is intact/);
  });

  test("a mariadb-dump backup Completed, and verify re-reads it whole", async () => {
    const started = Date.now();
    await server.ok(["backup", "create", "--cluster", "mdl", "--method", "mariadb-dump", "--name", "mdl-dump", "-n", NS, "--wait", "--timeout", "300s"]);
    numbers["dumpBackupSeconds"] = ((Date.now() - started) / 1000).toFixed(1);
    const status = (await backup("mdl-dump")).status ?? {};
    numbers["totalSize"] = status.totalSize ?? "";
    numbers["storedSize"] = status.storedSize ?? "";
    assert.equal(status.source?.engine, "mariadb");
    assert.ok(Number(status.totalSize) > 1_000_000, `totalSize ${status.totalSize}`);
    assert.ok(Number(status.storedSize) < Number(status.totalSize), "stored compressed");
    assert.match(await server.ok(["backup", "verify", "mdl-dump", "-n", NS]), /backup mdl-dump is intact: (\d+)\/\1 chunks/);
  });

  test("restoring the dump into a new cluster gives identical data and objects, with the new cluster's own passwords", async () => {
    const started = Date.now();
    await server.ok(["cluster", "restore", "mdl-restored", "--backup", "mdl-dump", "-n", NS]);
    await waitRunning("mdl-restored");
    numbers["restoreSeconds"] = ((Date.now() - started) / 1000).toFixed(1);
    assert.deepEqual(await checksums("mdl-restored"), sourceSums);
    assert.equal(await objects("mdl-restored"), sourceObjects);
    assert.equal(await sql("mdl-restored", "SELECT app.doubled(21), (SELECT note FROM app.notes WHERE id = 1) = " + `'${canary}'`), "42\t1");
    const [source, restored] = [await uriOf("mdl"), await uriOf("mdl-restored")];
    assert.notEqual(restored.password, source.password);
    const withSourcePassword = new URL(restored);
    withSourcePassword.password = source.password;
    assert.notEqual((await client(withSourcePassword, "SELECT 1")).code, 0, "the source's administrator password is refused");
    assert.equal(await sql("mdl-restored", "SELECT 1", BACKUP_ACCOUNT), "1", "the restored cluster's backup account logs in with its own Secret");
    await sql("mdl-restored", "UPDATE app.accounts SET balance = balance + 1 WHERE id = 11");
    assert.equal(await sql("mdl-restored", "SELECT COUNT(*) FROM app.audit"), "11", "the trigger came back and fires");
  });

  test("the canary is in no repository file", async () => {
    const needle = Buffer.from(canary);
    const repositoryFiles = await filesUnder(join(server.home, "backups"));
    assert.ok(repositoryFiles.length > 3);
    for (const file of repositoryFiles) assert.equal((await readFile(file)).includes(needle), false, `${file} holds the canary in plaintext`);
  });
});
