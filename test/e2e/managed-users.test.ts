/**
 * Managed application users (DatabaseUser, ADR 0046; issue 14 done-when 6), with real psql and redis-cli on a node
 * that advertises 127.0.75.1: a PostgreSQL user granted SELECT on a schema reads it (tables created later too) and
 * cannot write, create a table or create a schema; a grant added is usable and a grant removed is revoked; a Redis
 * user limited to `~app:*` with read commands reads those keys on every member and cannot SET, read other keys or run
 * KEYS; `holdfast cluster rotate-password --account` rotates a managed user online (old refused, new one in its
 * Secret works); admission refuses bad grants and reserved names naming the field, and a weak user-given password;
 * deletion drops the user; no password is in events, status or logs.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Cluster, DatabaseUser, Instance } from "../../src/api/index.ts";
import { clusterCaFile, connectionUri, installedPostgresMajor, installedRedisVersion, psql } from "../helpers/clients.ts";
import { eventually, run, TestServer, type CliResult } from "../helpers/harness.ts";
import { exampleWith, postgresExample } from "../helpers/manifests.ts";
import { passwordLeaks } from "../helpers/rotation.ts";
import { applyDatabaseUserReady, databaseUserPassword, getDatabaseUser } from "../helpers/database-users.ts";

const NS = "demo";
const ADDRESS = "127.0.75.1";
const PG = "pg-users";
const REDIS = "redis-users";

let server: TestServer;
/** Every password these tests saw, to look for in logs, events and status at the end. */
const seen = new Set<string>();

before(async () => {
  const major = await installedPostgresMajor();
  const version = await installedRedisVersion();
  server = await TestServer.start({ initArgs: ["--advertise", ADDRESS], serverArgs: ["--advertise", ADDRESS], listenHost: ADDRESS });
  await server.ok(["create", "namespace", NS]);
  await server.ok(["apply", "-f", "-"], await postgresExample(major, (doc) => {
    doc["metadata"].name = PG;
    doc["spec"].componentSpecs[0].replicas = 1;
  }));
  await server.ok(["apply", "-f", "-"], await exampleWith("redis/cluster.yaml", (doc) => {
    doc["metadata"].name = REDIS;
    for (const component of doc["spec"].componentSpecs) component.serviceVersion = version;
  }));
  await server.ok(["wait", `cluster/${PG}`, "-n", NS, "--for=phase=Running", "--timeout=240s"]);
  await server.ok(["wait", `cluster/${REDIS}`, "-n", NS, "--for=phase=Running", "--timeout=240s"]);
});

after(async () => {
  await server.destroy();
});

function databaseUser(name: string, cluster: string, component: string, spec: Record<string, unknown>): string {
  return JSON.stringify({ apiVersion: "holdfast.io/v1", kind: "DatabaseUser", metadata: { name, namespace: NS }, spec: { clusterName: cluster, componentName: component, ...spec } });
}

async function getUser(name: string): Promise<DatabaseUser> {
  return getDatabaseUser(server, NS, name);
}

/** The password in the user's Secret (named in its status). */
async function userPassword(name: string): Promise<string> {
  const password = await databaseUserPassword(server, NS, name);
  seen.add(password);
  return password;
}

async function applyReady(manifest: string, name: string): Promise<void> {
  await applyDatabaseUserReady(server, NS, manifest, name);
}

describe("PostgreSQL managed users", { timeout: 600_000 }, () => {
  let adminUri = "";

  function as(username: string, password: string): string {
    const url = new URL(adminUri);
    url.username = encodeURIComponent(username);
    url.password = encodeURIComponent(password);
    return url.toString();
  }

  async function sql(uri: string, text: string): Promise<string> {
    const result = await psql(uri, text);
    assert.equal(result.code, 0, result.stderr);
    return result.stdout.trim();
  }

  async function denied(uri: string, text: string): Promise<void> {
    const result = await psql(uri, text);
    assert.notEqual(result.code, 0, `${text} is refused`);
    assert.match(result.stderr, /permission denied/, text);
  }

  before(async () => {
    adminUri = await connectionUri(server, PG, NS);
    await sql(adminUri, "CREATE SCHEMA app; CREATE TABLE app.items (v text); INSERT INTO app.items VALUES ('one')");
  });

  test("a user with SELECT on a schema reads it, tables created later too, and cannot write or create", async () => {
    const grants = [
      { on: "database", database: "postgres", privileges: ["CONNECT"] },
      { on: "schema", database: "postgres", schema: "app", privileges: ["USAGE"] },
      { on: "tables", database: "postgres", schema: "app", privileges: ["SELECT"] },
    ];
    await applyReady(databaseUser("reader", PG, "postgresql", { username: "app_reader", grants }), "reader");
    const reader = as("app_reader", await userPassword("reader"));
    assert.equal(await sql(reader, "SELECT v FROM app.items"), "one");
    await sql(adminUri, "CREATE TABLE app.later (v text); INSERT INTO app.later VALUES ('later')");
    assert.equal(await sql(reader, "SELECT v FROM app.later"), "later", "default privileges reach a table created afterwards");
    await denied(reader, "INSERT INTO app.items VALUES ('two')");
    await denied(reader, "UPDATE app.items SET v = 'x'");
    await denied(reader, "DELETE FROM app.items");
    await denied(reader, "CREATE TABLE app.mine (v text)");
    await denied(reader, "CREATE SCHEMA mine");
    assert.equal(await sql(adminUri, "SELECT rolsuper OR rolcreaterole OR rolcreatedb OR rolreplication OR rolbypassrls FROM pg_roles WHERE rolname = 'app_reader'"), "f");

    // A grant added is usable; removed again, it is revoked.
    const writer = [...grants.slice(0, 2), { on: "tables", database: "postgres", schema: "app", privileges: ["SELECT", "INSERT"] }];
    await applyReady(databaseUser("reader", PG, "postgresql", { username: "app_reader", grants: writer }), "reader");
    assert.equal(await sql(reader, "WITH w AS (INSERT INTO app.items VALUES ('two') RETURNING v) SELECT v FROM w"), "two");
    await applyReady(databaseUser("reader", PG, "postgresql", { username: "app_reader", grants }), "reader");
    await denied(reader, "INSERT INTO app.items VALUES ('three')");
    assert.equal(await sql(reader, "SELECT count(*) FROM app.items"), "2");
    // The connection URI of a managed user, from its Secret.
    const shown = (await server.ok(["cluster", "connect", PG, "-n", NS, "--account", "app_reader", "--show-uri"])).trim();
    assert.equal(await sql(shown, "SELECT current_user"), "app_reader");
  });

  test("rotate-password --account rotates a managed user online: the old password is refused, the Secret's new one works", async () => {
    const old = await userPassword("reader");
    const rotated = await server.cli(["cluster", "rotate-password", PG, "-n", NS, "--account", "app_reader"]);
    assert.equal(rotated.code, 0, `${rotated.stdout}${rotated.stderr}`);
    assert.match(rotated.stdout, /user-reader: rotated/);
    const current = await userPassword("reader");
    assert.notEqual(current, old);
    const refused = await psql(as("app_reader", old), "SELECT 1");
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /password authentication failed/);
    assert.equal(await sql(as("app_reader", current), "SELECT v FROM app.items ORDER BY v LIMIT 1"), "one");
    await denied(as("app_reader", current), "INSERT INTO app.items VALUES ('x')");
  });

  test("admission refuses bad grants, reserved names and a weak given password, naming the field; a good given password is used", async () => {
    const bad = await server.cli(["apply", "-f", "-"], databaseUser("bad", PG, "postgresql", { username: "app2", grants: [{ on: "tables", database: "postgres", schema: "app", privileges: ["TRUNCATE"] }] }));
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /spec\.grants\[0\]\.privileges\[0\]/);
    const reserved = await server.cli(["apply", "-f", "-"], databaseUser("bad", PG, "postgresql", { username: "kbreplicator" }));
    assert.notEqual(reserved.code, 0);
    assert.match(reserved.stderr, /spec\.username/);
    const weak = "weakpassword";
    await server.ok(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "Secret", metadata: { name: "weak", namespace: NS }, stringData: { password: weak } }));
    const refused = await server.cli(["apply", "-f", "-"], databaseUser("given", PG, "postgresql", { username: "app_given", passwordSecretRef: { name: "weak" } }));
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /spec\.passwordSecretRef/);
    assert.ok(!refused.stderr.includes(weak), "the refusal does not repeat the password");
    const good = "Given-Passw0rd-2026";
    seen.add(good);
    await server.ok(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "Secret", metadata: { name: "good", namespace: NS }, stringData: { password: good } }));
    await applyReady(databaseUser("given", PG, "postgresql", { username: "app_given", passwordSecretRef: { name: "good" }, grants: [{ on: "database", database: "postgres", privileges: ["CONNECT"] }] }), "given");
    assert.equal(await sql(as("app_given", good), "SELECT current_user"), "app_given");
  });

  test("deleting a DatabaseUser drops its role and removes its Secret", async () => {
    const secretName = (await getUser("given")).status?.secretName ?? "";
    await server.ok(["delete", "databaseuser", "given", "-n", NS]);
    await server.ok(["wait", "databaseuser/given", "-n", NS, "--for=delete", "--timeout=60s"]);
    assert.equal(await sql(adminUri, "SELECT count(*) FROM pg_roles WHERE rolname = 'app_given'"), "0");
    const secrets = await server.api<{ items: { metadata: { name: string } }[] }>(`/api/v1/namespaces/${NS}/secrets`);
    assert.ok(!secrets.items.some((s) => s.metadata.name === secretName), `${secretName} removed`);
  });
});

describe("Redis managed users", { timeout: 600_000 }, () => {
  async function members(): Promise<Instance[]> {
    const list = await server.api<{ items: Instance[] }>(`/apis/holdfast.io/v1alpha1/namespaces/${NS}/instances?labelSelector=${encodeURIComponent(`app.kubernetes.io/instance=${REDIS},apps.kubeblocks.io/component-name=redis`)}`);
    return list.items;
  }

  /** redis-cli as `user` on the server at `i`, over TLS; the password reaches it through REDISCLI_AUTH alone. */
  function redisAs(i: Instance, user: string, password: string, ...command: string[]): Promise<CliResult> {
    const args = ["--no-auth-warning", "--tls", "--cacert", clusterCaFile(server), "-h", i.status?.host ?? ADDRESS, "-p", String(i.spec.port), "--user", user, ...command];
    return run("redis-cli", args, { env: { ...process.env, REDISCLI_AUTH: password }, timeoutMs: 30_000 });
  }

  async function reply(i: Instance, user: string, password: string, ...command: string[]): Promise<string> {
    const result = await redisAs(i, user, password, ...command);
    return `${result.stdout}${result.stderr}`.trim();
  }

  before(async () => {
    const cluster = await server.api<Cluster>(`/apis/apps.kubeblocks.io/v1/namespaces/${NS}/clusters/${REDIS}`);
    assert.ok(cluster.status?.replication?.["redis"]?.currentPrimary);
    const uri = new URL(await connectionUri(server, REDIS, NS));
    const admin = decodeURIComponent(uri.password);
    seen.add(admin);
    const primary = (await members()).find((i) => i.status?.role === "primary") ?? assert.fail("a primary");
    assert.equal(await reply(primary, "default", admin, "SET", "app:1", "v1"), "OK");
    assert.equal(await reply(primary, "default", admin, "SET", "other:1", "secret"), "OK");
  });

  test("a user limited to ~app:* with read commands reads those keys on every member and cannot SET, read other keys or run KEYS", async () => {
    await applyReady(databaseUser("cache-reader", REDIS, "redis", { username: "reader", grants: [{ keys: ["app:*"], categories: ["read"] }] }), "cache-reader");
    const password = await userPassword("cache-reader");
    const all = await members();
    assert.equal(all.length, 2);
    for (const i of all) {
      await eventually(`app:1 replicated to ${i.metadata.name}`, async () => ((await reply(i, "reader", password, "GET", "app:1")) === "v1" ? true : undefined), 30_000);
      assert.match(await reply(i, "reader", password, "SET", "app:1", "x"), /NOPERM/);
      assert.match(await reply(i, "reader", password, "GET", "other:1"), /NOPERM/);
      assert.match(await reply(i, "reader", password, "KEYS", "*"), /NOPERM/);
      assert.match(await reply(i, "reader", password, "CONFIG", "GET", "requirepass"), /NOPERM/);
    }
  });

  test("rotate-password --account rotates the Redis user on every member: old refused, new one works", async () => {
    const old = await userPassword("cache-reader");
    const rotated = await server.cli(["cluster", "rotate-password", REDIS, "-n", NS, "--account", "reader"]);
    assert.equal(rotated.code, 0, `${rotated.stdout}${rotated.stderr}`);
    const current = await userPassword("cache-reader");
    assert.notEqual(current, old);
    for (const i of await members()) {
      assert.match(await reply(i, "reader", old, "GET", "app:1"), /WRONGPASS|invalid username-password/);
      assert.equal(await reply(i, "reader", current, "GET", "app:1"), "v1");
      assert.match(await reply(i, "reader", current, "SET", "app:1", "x"), /NOPERM/);
    }
  });

  test("deleting the Redis user removes it from every member", async () => {
    const password = await userPassword("cache-reader");
    await server.ok(["delete", "databaseuser", "cache-reader", "-n", NS]);
    await server.ok(["wait", "databaseuser/cache-reader", "-n", NS, "--for=delete", "--timeout=60s"]);
    for (const i of await members()) assert.match(await reply(i, "reader", password, "PING"), /WRONGPASS|invalid username-password/);
  });
});

test("no managed user's password is in events, status, logs or the DatabaseUsers", async () => {
  const values = [...seen];
  assert.ok(values.length >= 4);
  assert.deepEqual(await passwordLeaks(server, NS, values), []);
  const users = await server.ok(["get", "databaseusers", "-n", NS, "-o", "json"]);
  assert.deepEqual(values.filter((v) => users.includes(v)), []);
});
