import { test } from "node:test";
import assert from "node:assert/strict";
import { clusterSchema, databaseSchema, databaseUserSchema, type Cluster, type Database, type DatabaseUser } from "../../api/index.ts";
import { EngineCatalog, builtinEngines } from "../../engines/index.ts";
import { databaseCauses, duplicateDatabaseCause, immutableDatabaseCauses } from "./database-rules.ts";

const engines = new EngineCatalog(builtinEngines());

function cluster(clusterDef: string, component: string): Cluster {
  return clusterSchema.parse({ apiVersion: "apps.kubeblocks.io/v1", kind: "Cluster", metadata: { name: "c", namespace: "demo" }, spec: { clusterDef, componentSpecs: [{ name: component }] } });
}

function database(spec: Record<string, unknown>, name = "d"): Database {
  return databaseSchema.parse({ apiVersion: "holdfast.io/v1", kind: "Database", metadata: { name, namespace: "demo" }, spec: { clusterName: "c", componentName: "postgresql", name: "app", ...spec } });
}

const PG = cluster("postgresql", "postgresql");
const OWNER: DatabaseUser = databaseUserSchema.parse({ apiVersion: "holdfast.io/v1", kind: "DatabaseUser", metadata: { name: "o", namespace: "demo" }, spec: { clusterName: "c", componentName: "postgresql", username: "app_owner" } });

function fields(d: Database, users: readonly DatabaseUser[] = [OWNER], c: Cluster = PG): string[] {
  return databaseCauses(d, c, engines, users).map((cause) => cause.field);
}

void test("defaults: present, retain, no connection limit, connections allowed; a PostgreSQL database owned by a DatabaseUser is accepted", () => {
  const d = database({ owner: "app_owner", encoding: "UTF8", locale: "C.UTF-8", connectionLimit: 10 });
  assert.deepEqual([d.spec.ensure, d.spec.databaseReclaimPolicy, database({}).spec.connectionLimit, d.spec.allowConnections], ["present", "retain", -1, true]);
  assert.deepEqual(fields(d), []);
  assert.deepEqual(fields(database({ owner: "postgres" })), [], "the administrator may own it");
  assert.deepEqual(fields(database({ encoding: "LATIN1", locale: "C" })), []);
});

void test("an owner that is no DatabaseUser of the component, a reserved name, an encoding or locale off the list are refused naming the field", () => {
  assert.deepEqual(fields(database({ owner: "nobody" })), ["spec.owner"]);
  const elsewhere = databaseUserSchema.parse({ ...OWNER, spec: { ...OWNER.spec, componentName: "other" } });
  assert.deepEqual(fields(database({ owner: "app_owner" }), [elsewhere]), ["spec.owner"], "a user of another component does not count");
  assert.deepEqual(fields(database({ name: "template1" })), ["spec.name"]);
  assert.deepEqual(fields(database({ encoding: "EUC_JP" })), ["spec.encoding"]);
  assert.deepEqual(fields(database({ locale: "fr_FR.UTF-8" })), ["spec.locale"]);
  const latin = databaseCauses(database({ encoding: "LATIN1" }), PG, engines, []);
  assert.deepEqual(latin.map((c) => c.field), ["spec.locale"], "LATIN1 with the default UTF-8 locale cannot be created");
  assert.match(latin[0]?.message ?? "", /needs locale C or POSIX/);
});

void test("the schema refuses a bad name, ensure, reclaim policy, limit, an empty owner and unknown fields", () => {
  const bad = (spec: Record<string, unknown>): boolean => databaseSchema.safeParse({ apiVersion: "holdfast.io/v1", kind: "Database", metadata: { name: "d" }, spec: { clusterName: "c", componentName: "p", name: "app", ...spec } }).success;
  assert.equal(bad({}), true);
  for (const spec of [{ name: "a b" }, { name: "x".repeat(64) }, { name: '"app' }, { ensure: "gone" }, { databaseReclaimPolicy: "keep" }, { connectionLimit: -2 }, { connectionLimit: 1.5 }, { owner: "" }, { surprise: 1 }]) {
    assert.equal(bad(spec), false, JSON.stringify(spec));
  }
});

void test("CloudNativePG's fields Holdfast does not honour are refused by name, not pruned", () => {
  const causes = databaseCauses(database({ template: "template1", tablespace: "fast", lcCollate: "C", schemas: [] }), PG, engines, []);
  assert.deepEqual(causes.map((c) => [c.field, c.reason]), [["spec.template", "FieldValueNotSupported"], ["spec.tablespace", "FieldValueNotSupported"], ["spec.lcCollate", "FieldValueNotSupported"], ["spec.schemas", "FieldValueNotSupported"]]);
  assert.match(causes[0]?.message ?? "", /template0/);
});

void test("Redis has no named databases and MariaDB none managed yet: refused naming the engine", () => {
  const redis = databaseCauses(database({ componentName: "redis" }), cluster("redis", "redis"), engines, []);
  assert.deepEqual(redis.map((c) => [c.field, c.reason]), [["spec.componentName", "FieldValueNotSupported"]]);
  assert.match(redis[0]?.message ?? "", /runs redis/);
  const mariadb = databaseCauses(database({ componentName: "mariadb" }), cluster("mariadb", "mariadb"), engines, []);
  assert.match(mariadb[0]?.message ?? "", /runs mariadb/);
  assert.deepEqual(fields(database({ componentName: "nope" })), ["spec.componentName"]);
});

void test("the cluster, component, name, encoding and locale cannot change; owner, limit and allowConnections can; a second Database of the same database is refused", () => {
  const old = database({ encoding: "UTF8" });
  assert.deepEqual(immutableDatabaseCauses(database({ encoding: "LATIN1", name: "other" }), old).map((c) => c.field), ["spec.name", "spec.encoding"]);
  assert.deepEqual(immutableDatabaseCauses(database({ encoding: "UTF8", owner: "app_owner", connectionLimit: 5, allowConnections: false }), old), []);
  assert.equal(duplicateDatabaseCause(database({}, "second"), [old])?.field, "spec.name");
  assert.equal(duplicateDatabaseCause(old, [old]), undefined, "the object itself is no duplicate");
  assert.equal(duplicateDatabaseCause(database({ name: "else" }, "second"), [old]), undefined);
});
