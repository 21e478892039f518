/**
 * Declared databases (Database, ADR 0053; issue 14 "Accounts"), with real psql on a node that advertises 127.0.83.1:
 * a Database appears with its owner (a DatabaseUser), encoding, locale and connection limit, and its owner creates a
 * table in it; changing connectionLimit and allowConnections is applied; an existing database whose encoding differs
 * makes the Database Failed with the reason and an event; admission refuses what cannot be honoured naming the field;
 * ensure: absent drops the database; deleting the object keeps the database (retain) or drops it (delete).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Database, DatabaseUser, Instance } from "../../src/api/index.ts";
import { connectionUri, installedPostgresMajor, psql } from "../helpers/clients.ts";
import { eventually, TestServer } from "../helpers/harness.ts";
import { postgresExample } from "../helpers/manifests.ts";

const NS = "demo";
const ADDRESS = "127.0.83.1";
const PG = "pg-databases";
const COMPONENT = "postgresql";

let server: TestServer;
let adminUri = "";

before(async () => {
  const major = await installedPostgresMajor();
  server = await TestServer.start({ initArgs: ["--advertise", ADDRESS], serverArgs: ["--advertise", ADDRESS], listenHost: ADDRESS });
  await server.ok(["create", "namespace", NS]);
  await server.ok(["apply", "-f", "-"], await postgresExample(major, (doc) => {
    doc["metadata"].name = PG;
    doc["spec"].componentSpecs[0].replicas = 1;
  }));
  await server.ok(["wait", `cluster/${PG}`, "-n", NS, "--for=phase=Running", "--timeout=240s"]);
  adminUri = await connectionUri(server, PG, NS);
});

after(async () => {
  await server.destroy();
});

function manifest(kind: "Database" | "DatabaseUser", name: string, spec: Record<string, unknown>): string {
  return JSON.stringify({ apiVersion: "holdfast.io/v1", kind, metadata: { name, namespace: NS }, spec: { clusterName: PG, componentName: COMPONENT, ...spec } });
}

/** Apply a Database (or DatabaseUser) and wait until its status is `phase` for its generation. */
async function applyUntil(kind: "Database" | "DatabaseUser", name: string, spec: Record<string, unknown>, phase = "Ready"): Promise<Database> {
  await server.ok(["apply", "-f", "-"], manifest(kind, name, spec));
  const path = `/apis/holdfast.io/v1/namespaces/${NS}/${kind === "Database" ? "databases" : "databaseusers"}/${name}`;
  return eventually(`${kind} ${name} ${phase} for its generation`, async () => {
    const object = await server.api<Database>(path);
    return object.status?.phase === phase && object.status.observedGeneration === object.metadata.generation ? object : undefined;
  }, 90_000);
}

/** The URI of `uri` with another user, password and database. */
function uriFor(uri: string, change: { username?: string; password?: string; database?: string }): string {
  const url = new URL(uri);
  if (change.username !== undefined) url.username = encodeURIComponent(change.username);
  if (change.password !== undefined) url.password = encodeURIComponent(change.password);
  if (change.database !== undefined) url.pathname = `/${change.database}`;
  return url.toString();
}

/** What the primary recorded of applying app_owner (it changes when the user is applied again). */
async function ownerRecord(): Promise<string | undefined> {
  const selector = encodeURIComponent(`app.kubernetes.io/instance=${PG}`);
  const list = await server.api<{ items: Instance[] }>(`/apis/holdfast.io/v1alpha1/namespaces/${NS}/instances?labelSelector=${selector}`);
  return list.items.find((i) => i.status?.role === "primary")?.status?.managedUsers?.["app_owner"];
}

async function sql(uri: string, text: string): Promise<string> {
  const result = await psql(uri, text);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.trim();
}

async function exists(name: string): Promise<boolean> {
  return (await sql(adminUri, `SELECT count(*) FROM pg_database WHERE datname = '${name}'`)) === "1";
}

async function refused(spec: Record<string, unknown>, field: RegExp, name = "refused"): Promise<string> {
  const result = await server.cli(["apply", "-f", "-"], manifest("Database", name, spec));
  assert.notEqual(result.code, 0, `${JSON.stringify(spec)} is refused`);
  assert.match(result.stderr, field);
  return result.stderr;
}

describe("PostgreSQL databases", { timeout: 600_000 }, () => {
  test("a Database appears with its owner, encoding, locale and limit; the owner creates a table in it", async () => {
    await applyUntil("DatabaseUser", "owner", { username: "app_owner" });
    const ready = await applyUntil("Database", "app", { name: "appdb", owner: "app_owner", encoding: "UTF8", locale: "C", connectionLimit: 5 });
    assert.match(ready.status?.message ?? "", /appdb present on .*owner app_owner/);
    assert.equal(await sql(adminUri, "SELECT pg_get_userbyid(datdba), pg_encoding_to_char(encoding), datcollate, datctype, datconnlimit, datallowconn FROM pg_database WHERE datname = 'appdb'"), "app_owner|UTF8|C|C|5|t");
    const user = await server.api<DatabaseUser>(`/apis/holdfast.io/v1/namespaces/${NS}/databaseusers/owner`);
    const secret = await server.api<{ data: Record<string, string> }>(`/api/v1/namespaces/${NS}/secrets/${user.status?.secretName ?? ""}`);
    const owner = uriFor(adminUri, { username: "app_owner", password: Buffer.from(secret.data["password"] ?? "", "base64").toString("utf8"), database: "appdb" });
    await sql(owner, "CREATE TABLE items (v text)");
    await sql(owner, "INSERT INTO items VALUES ('one')");
    assert.equal(await sql(owner, "SELECT current_user || ':' || v FROM items"), "app_owner:one");
    // Applied again (a rotation), the owner keeps its privileges on its database: it still creates a schema there.
    const before = await ownerRecord();
    const rotated = await server.cli(["cluster", "rotate-password", PG, "-n", NS, "--account", "app_owner"]);
    assert.equal(rotated.code, 0, `${rotated.stdout}${rotated.stderr}`);
    const next = await server.api<{ data: Record<string, string> }>(`/api/v1/namespaces/${NS}/secrets/${user.status?.secretName ?? ""}`);
    const rotatedOwner = uriFor(owner, { password: Buffer.from(next.data["password"] ?? "", "base64").toString("utf8") });
    await eventually("app_owner applied again after the rotation", async () => ((await ownerRecord()) !== before ? true : undefined), 60_000);
    await sql(rotatedOwner, "CREATE SCHEMA own");
    assert.equal(await sql(rotatedOwner, "SELECT has_database_privilege('appdb', 'CREATE')"), "t");
    const listed = await server.ok(["get", "databases", "-n", NS]);
    assert.match(listed, /NAME\s+CLUSTER\s+COMPONENT\s+DATABASE\s+OWNER\s+ENSURE\s+STATUS/);
    assert.match(listed, /app\s+pg-databases\s+postgresql\s+appdb\s+app_owner\s+present\s+Ready/);
  });

  test("changing connectionLimit and allowConnections is applied with ALTER DATABASE", async () => {
    await applyUntil("Database", "app", { name: "appdb", owner: "app_owner", encoding: "UTF8", locale: "C", connectionLimit: 2, allowConnections: false });
    assert.equal(await sql(adminUri, "SELECT datconnlimit, datallowconn FROM pg_database WHERE datname = 'appdb'"), "2|f");
    const closed = await psql(uriFor(adminUri, { database: "appdb" }), "SELECT 1");
    assert.notEqual(closed.code, 0);
    assert.match(closed.stderr, /not currently accepting connections/);
    await applyUntil("Database", "app", { name: "appdb", owner: "app_owner", encoding: "UTF8", locale: "C", connectionLimit: 2 });
    assert.equal(await sql(adminUri, "SELECT datconnlimit, datallowconn FROM pg_database WHERE datname = 'appdb'"), "2|t");
  });

  test("admission refuses an owner that is no DatabaseUser, an encoding off the list, a reserved name, a changed encoding and unknown fields, naming the field", async () => {
    await refused({ name: "x", owner: "nobody" }, /spec\.owner/);
    await refused({ name: "x", encoding: "EUC_JP", locale: "C" }, /spec\.encoding/);
    await refused({ name: "x", encoding: "LATIN1" }, /spec\.locale/);
    await refused({ name: "template1" }, /spec\.name/);
    const template = await refused({ name: "x", template: "template1" }, /spec\.template/);
    assert.match(template, /template0/);
    await refused({ name: "appdb", owner: "app_owner", encoding: "LATIN1", locale: "C", connectionLimit: 2 }, /spec\.encoding.*immutable|immutable/, "app");
    await refused({ name: "appdb" }, /spec\.name.*already declares appdb|Duplicate/, "app-again");
  });

  test("an existing database whose encoding differs: Failed with the reason and an event", async () => {
    await sql(adminUri, "CREATE DATABASE legacy TEMPLATE template0 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C'");
    const failed = await applyUntil("Database", "legacy", { name: "legacy", encoding: "UTF8" }, "Failed");
    assert.match(failed.status?.message ?? "", /encoding LATIN1, not UTF8/);
    const events = await server.ok(["get", "events", "-n", NS]);
    assert.match(events, /ApplyFailed/);
    await server.ok(["delete", "database", "legacy", "-n", NS]);
    await server.ok(["wait", "database/legacy", "-n", NS, "--for=delete", "--timeout=60s"]);
    assert.ok(await exists("legacy"), "a failed Database deleted with retain leaves the server's database alone");
  });

  test("ensure: absent drops the database; deleting with reclaim policy delete drops it", async () => {
    await applyUntil("Database", "scratch", { name: "scratchdb" });
    assert.ok(await exists("scratchdb"));
    const absent = await applyUntil("Database", "scratch", { name: "scratchdb", ensure: "absent" });
    assert.match(absent.status?.message ?? "", /absent/);
    assert.ok(!(await exists("scratchdb")));
    await applyUntil("Database", "dropme", { name: "dropmedb", databaseReclaimPolicy: "delete" });
    assert.ok(await exists("dropmedb"));
    await server.ok(["delete", "database", "dropme", "-n", NS]);
    await server.ok(["wait", "database/dropme", "-n", NS, "--for=delete", "--timeout=60s"]);
    assert.ok(!(await exists("dropmedb")));
  });

  test("deleting a Database with reclaim policy retain keeps the database and its data", async () => {
    await server.ok(["delete", "database", "app", "-n", NS]);
    await server.ok(["wait", "database/app", "-n", NS, "--for=delete", "--timeout=60s"]);
    assert.ok(await exists("appdb"));
    assert.equal(await sql(uriFor(adminUri, { database: "appdb" }), "SELECT v FROM items"), "one");
  });
});
