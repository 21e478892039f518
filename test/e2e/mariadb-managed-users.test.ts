/**
 * MariaDB managed users and online password rotation (issue 14 "Accounts", issue 13; ADR 0046 and 0038, "Since
 * 2026-12-06 (evening)"), with the real `mariadb` client (passwords in 0600 option files, TLS checked against the
 * cluster CA) on a 2-replica cluster whose node advertises 127.0.82.1: a DatabaseUser with SELECT on a database reads
 * it on the primary and the replica and cannot INSERT nor read mysql.*; a grant added works, removed it is revoked;
 * admission refuses SUPER and `*`; `cluster rotate-password` rotates root (old refused, new accepted on both servers),
 * the replication account (the replica reconnects with the new one and keeps replicating) and the managed user;
 * deleting the DatabaseUser drops it and ends its open session; no password is in logs, events, status or the binlog.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Instance } from "../../src/api/index.ts";
import { createMariadbEngine } from "../../src/engines/index.ts";
import { clusterCaFile, connectionUri } from "../helpers/clients.ts";
import { eventually, TestServer, type CliResult } from "../helpers/harness.ts";
import { exampleWith } from "../helpers/manifests.ts";
import { MariadbCli } from "../helpers/mariadb-cli.ts";
import { passwordLeaks } from "../helpers/rotation.ts";
import { applyDatabaseUserReady, databaseUserPassword } from "../helpers/database-users.ts";

const installed = await createMariadbEngine().detectVersions();
const skip = installed.length === 0 ? "mariadbd is not installed (Debian: apt-get install -y mariadb-server mariadb-client mariadb-backup)" : false;
if (skip !== false) console.log(`# skipped: ${skip}`);
const version = installed[0]?.version ?? "";

const NS = "demo";
const NAME = "maria-users";
const COMPONENT = "mariadb";
const ADDRESS = "127.0.82.1";

let server: TestServer;
let cli: MariadbCli;
/** Every password these tests saw, to look for in logs, events and status at the end. */
const seen = new Set<string>();

function databaseUser(name: string, spec: Record<string, unknown>): string {
  return JSON.stringify({ apiVersion: "holdfast.io/v1", kind: "DatabaseUser", metadata: { name, namespace: NS }, spec: { clusterName: NAME, componentName: COMPONENT, ...spec } });
}

/** The password in the user's Secret, remembered in the client's option file for `username`. */
async function userPassword(name: string, username: string): Promise<string> {
  const password = await databaseUserPassword(server, NS, name);
  seen.add(password);
  await cli.setPassword(username, password);
  return password;
}

async function rootPassword(): Promise<string> {
  const password = decodeURIComponent(new URL(await connectionUri(server, NAME, NS)).password);
  seen.add(password);
  await cli.setPassword("root", password);
  return password;
}

async function applyReady(manifest: string, name: string): Promise<void> {
  await applyDatabaseUserReady(server, NS, manifest, name);
}

async function members(): Promise<Instance[]> {
  const list = await server.api<{ items: Instance[] }>(`/apis/holdfast.io/v1alpha1/namespaces/${NS}/instances?labelSelector=${encodeURIComponent(`app.kubernetes.io/instance=${NAME}`)}`);
  return list.items;
}

async function portOf(role: "primary" | "secondary"): Promise<number> {
  const found = (await members()).find((i) => i.status?.role === role && i.status.ready === true);
  return found?.spec.port ?? assert.fail(`a ready ${role}`);
}

function as(user: string, port: number, sql: string): Promise<CliResult> {
  return cli.run(port, sql, { user });
}

async function ok(user: string, port: number, sql: string): Promise<string> {
  const result = await as(user, port, sql);
  assert.equal(result.code, 0, `${user}: ${sql}: ${result.stderr}`);
  return result.stdout.trim();
}

async function refused(user: string, port: number, sql: string, pattern: RegExp): Promise<void> {
  const result = await as(user, port, sql);
  assert.notEqual(result.code, 0, `${user}: ${sql} is refused`);
  assert.match(result.stderr, pattern, sql);
}

/** A row written on the primary is read on the replica (the replica's SQL and IO threads both work). */
async function replicates(primary: number, replica: number, value: string): Promise<void> {
  await ok("root", primary, `INSERT INTO app.items VALUES ('${value}')`);
  await eventually(`${value} replicated`, async () => ((await as("root", replica, `SELECT v FROM app.items WHERE v = '${value}'`)).stdout.trim() === value ? true : undefined), 60_000);
}

describe("MariaDB managed users and password rotation", { skip, timeout: 900_000 }, () => {
  let primary = 0;
  let replica = 0;

  before(async () => {
    server = await TestServer.start({ initArgs: ["--advertise", ADDRESS], serverArgs: ["--advertise", ADDRESS], listenHost: ADDRESS });
    await server.ok(["create", "namespace", NS]);
    cli = await MariadbCli.create(clusterCaFile(server));
    const started = performance.now();
    await server.ok(["apply", "-f", "-"], await exampleWith("mariadb/cluster.yaml", (doc) => {
      doc["metadata"].name = NAME;
      doc["spec"].clusterDef = "mariadb";
      doc["spec"].topology = "replication";
      doc["spec"].componentSpecs[0].replicas = 2;
      doc["spec"].componentSpecs[0].serviceVersion = version;
    }));
    await server.ok(["wait", `cluster/${NAME}`, "-n", NS, "--for=phase=Running", "--timeout=300s"]);
    await rootPassword();
    primary = await portOf("primary");
    replica = await eventually("a ready replica", async () => (await members()).find((i) => i.status?.role === "secondary" && i.status.ready === true)?.spec.port, 120_000);
    console.log(`2-replica MariaDB cluster Running after ${Math.round(performance.now() - started)} ms`);
    await ok("root", primary, "CREATE DATABASE app; CREATE TABLE app.items (v varchar(40)); INSERT INTO app.items VALUES ('one')");
  });

  after(async () => {
    await server.destroy();
    await cli.remove();
  });

  test("a user with SELECT on a database reads it on both servers and cannot INSERT nor read mysql.*; a grant added works, removed is revoked", async () => {
    const reader = [{ database: "app", privileges: ["SELECT"] }];
    await applyReady(databaseUser("reader", { username: "app_reader", grants: reader }), "reader");
    await userPassword("reader", "app_reader");
    assert.equal(await ok("app_reader", primary, "SELECT v FROM app.items"), "one");
    await eventually("the user replicated", async () => ((await as("app_reader", replica, "SELECT v FROM app.items")).stdout.trim() === "one" ? true : undefined), 60_000);
    await refused("app_reader", primary, "INSERT INTO app.items VALUES ('two')", /INSERT command denied/);
    await refused("app_reader", primary, "SELECT * FROM mysql.global_priv", /command denied|Access denied/);
    await refused("app_reader", primary, "CREATE DATABASE other", /Access denied/);
    const grants = await ok("root", primary, "SHOW GRANTS FOR 'app_reader'@'%'");
    assert.match(grants, /GRANT USAGE ON \*\.\* TO `app_reader`@`%` IDENTIFIED VIA ed25519/);

    await applyReady(databaseUser("reader", { username: "app_reader", grants: [{ database: "app", privileges: ["SELECT", "INSERT"] }] }), "reader");
    await ok("app_reader", primary, "INSERT INTO app.items VALUES ('two')");
    await applyReady(databaseUser("reader", { username: "app_reader", grants: reader }), "reader");
    await refused("app_reader", primary, "INSERT INTO app.items VALUES ('three')", /INSERT command denied/);
    assert.equal(await ok("app_reader", primary, "SELECT count(*) FROM app.items"), "2");
  });

  test("admission refuses SUPER, '*' and the mysql schema, naming the field", async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ database: "app", privileges: ["SUPER"] }, /spec\.grants\[0\]\.privileges\[0\]/],
      [{ database: "*", privileges: ["SELECT"] }, /spec\.grants\[0\]\.database/],
      [{ database: "mysql", privileges: ["SELECT"] }, /spec\.grants\[0\]\.database/],
    ];
    for (const [grant, field] of cases) {
      const result = await server.cli(["apply", "-f", "-"], databaseUser("bad", { username: "app_bad", grants: [grant] }));
      assert.notEqual(result.code, 0, JSON.stringify(grant));
      assert.match(result.stderr, field);
    }
  });

  test("rotate-password: root's old password is refused and the new one works on both servers; the replica keeps replicating", async () => {
    const old = await rootPassword();
    const rotated = await server.cli(["cluster", "rotate-password", NAME, "-n", NS, "--account", "root", "--account", "kbreplicator", "--timeout", "3m"]);
    assert.equal(rotated.code, 0, `${rotated.stdout}${rotated.stderr}`);
    const current = await rootPassword();
    assert.notEqual(current, old);
    for (const port of [primary, replica]) {
      await eventually(`the new root password accepted on ${port}`, async () => ((await as("root", port, "SELECT 1")).code === 0 ? true : undefined), 30_000);
      await cli.setPassword("root", old);
      await refused("root", port, "SELECT 1", /Access denied/);
      await cli.setPassword("root", current);
    }
    await replicates(primary, replica, "after-rotation");
    // A new connection of the replica to its primary logs in with the replication account's new password.
    await ok("root", replica, "STOP SLAVE; START SLAVE");
    await replicates(primary, replica, "after-reconnect");
    const status = await cli.run(replica, "SHOW SLAVE STATUS", { columnNames: true });
    const [header = "", row = ""] = status.stdout.split("\n");
    const fields = Object.fromEntries(header.split("\t").map((n, i) => [n, row.split("\t")[i] ?? ""]));
    assert.equal(fields["Slave_IO_Running"], "Yes", fields["Last_IO_Error"]);
  });

  test("rotate-password --account rotates a managed user: old refused, new one works with its grants", async () => {
    const old = await userPassword("reader", "app_reader");
    const rotated = await server.cli(["cluster", "rotate-password", NAME, "-n", NS, "--account", "app_reader"]);
    assert.equal(rotated.code, 0, `${rotated.stdout}${rotated.stderr}`);
    const current = await userPassword("reader", "app_reader");
    assert.notEqual(current, old);
    await cli.setPassword("app_reader", old);
    await refused("app_reader", primary, "SELECT 1", /Access denied/);
    await cli.setPassword("app_reader", current);
    assert.equal(await ok("app_reader", primary, "SELECT v FROM app.items ORDER BY v LIMIT 1"), "after-reconnect");
    await refused("app_reader", primary, "INSERT INTO app.items VALUES ('x')", /INSERT command denied/);
  });

  test("deleting the DatabaseUser drops it and ends its open session", async () => {
    const session = as("app_reader", primary, "SELECT SLEEP(120)");
    await eventually("the session open", async () => ((await ok("root", primary, "SELECT count(*) FROM information_schema.PROCESSLIST WHERE USER = 'app_reader'")) === "1" ? true : undefined), 20_000);
    const started = performance.now();
    await server.ok(["delete", "databaseuser", "reader", "-n", NS]);
    await server.ok(["wait", "databaseuser/reader", "-n", NS, "--for=delete", "--timeout=60s"]);
    const ended = await session;
    assert.notEqual(ended.code, 0, "the session was ended");
    assert.ok(performance.now() - started < 100_000);
    assert.equal(await ok("root", primary, "SELECT count(*) FROM mysql.global_priv WHERE User = 'app_reader'"), "0");
    await eventually("the drop replicated", async () => ((await ok("root", replica, "SELECT count(*) FROM mysql.global_priv WHERE User = 'app_reader'")) === "0" ? true : undefined), 30_000);
    await refused("app_reader", primary, "SELECT 1", /Access denied/);
  });

  test("no password is in logs, events, status, the DatabaseUsers or the primary's binlog (authentication strings only)", async () => {
    const values = [...seen];
    assert.ok(values.length >= 4);
    assert.deepEqual(await passwordLeaks(server, NS, values), []);
    const users = await server.ok(["get", "databaseusers", "-n", NS, "-o", "json"]);
    assert.deepEqual(values.filter((v) => users.includes(v)), []);
    const files = (await ok("root", primary, "SHOW BINARY LOGS")).split("\n").map((line) => line.split("\t")[0] ?? "");
    const events = (await Promise.all(files.map((file) => ok("root", primary, `SHOW BINLOG EVENTS IN '${file}'`)))).join("\n");
    assert.match(events, /ALTER USER IF EXISTS 'root'@'%' IDENTIFIED VIA ed25519 USING '[A-Za-z0-9+/]{43}'/u, "root's rotation reached the binlog as a verifier");
    assert.match(events, /CREATE USER IF NOT EXISTS 'app_reader'@'%' IDENTIFIED VIA ed25519 USING/u);
    assert.deepEqual(values.filter((v) => events.includes(v)), []);
  });
});
