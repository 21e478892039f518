import { test } from "node:test";
import assert from "node:assert/strict";
import { clusterSchema, databaseUserSchema, type Cluster, type DatabaseUser } from "../../api/index.ts";
import { EngineCatalog, builtinEngines } from "../../engines/index.ts";
import { databaseUserCauses, immutableCauses } from "./database-user-rules.ts";

const engines = new EngineCatalog(builtinEngines());

function cluster(clusterDef: string, component: string): Cluster {
  return clusterSchema.parse({ apiVersion: "apps.kubeblocks.io/v1", kind: "Cluster", metadata: { name: "c", namespace: "demo" }, spec: { clusterDef, componentSpecs: [{ name: component }] } });
}

function user(spec: Record<string, unknown>): DatabaseUser {
  return databaseUserSchema.parse({ apiVersion: "holdfast.io/v1", kind: "DatabaseUser", metadata: { name: "u", namespace: "demo" }, spec: { clusterName: "c", ...spec } });
}

const PG = cluster("postgresql", "postgresql");

void test("a PostgreSQL user with typed grants is accepted", () => {
  const ok = user({ componentName: "postgresql", username: "app_reader", grants: [{ on: "schema", database: "postgres", schema: "app", privileges: ["USAGE"] }] });
  assert.deepEqual(databaseUserCauses(ok, PG, engines), []);
});

void test("an unknown component, a system account, a kb name and a bad grant are refused naming the field", () => {
  assert.deepEqual(databaseUserCauses(user({ componentName: "nope", username: "app" }), PG, engines).map((c) => c.field), ["spec.componentName"]);
  const system = databaseUserCauses(user({ componentName: "postgresql", username: "kbreplicator" }), PG, engines);
  assert.deepEqual(system.map((c) => c.field), ["spec.username"]);
  assert.match(system[0]?.message ?? "", /system account/);
  assert.deepEqual(databaseUserCauses(user({ componentName: "postgresql", username: "kbapp" }), PG, engines).map((c) => c.field), ["spec.username"]);
  const grant = databaseUserCauses(user({ componentName: "postgresql", username: "app", grants: [{ on: "tables", database: "d", schema: "s", privileges: ["TRUNCATE"] }] }), PG, engines);
  assert.deepEqual(grant.map((c) => c.field), ["spec.grants[0].privileges[0]"]);
});

void test("a Redis grant is checked by the Redis engine", () => {
  const redis = cluster("redis", "redis");
  assert.deepEqual(databaseUserCauses(user({ componentName: "redis", username: "reader", grants: [{ keys: ["app:*"], categories: ["read"] }] }), redis, engines), []);
  assert.deepEqual(databaseUserCauses(user({ componentName: "redis", username: "reader", grants: [{ keys: ["app:*"], categories: ["dangerous"] }] }), redis, engines).map((c) => c.field), ["spec.grants[0].categories[0]"]);
});

void test("a MariaDB grant is checked by the MariaDB engine: SUPER, '*' and root are refused naming the field", () => {
  const mariadb = cluster("mariadb", "mariadb");
  assert.deepEqual(databaseUserCauses(user({ componentName: "mariadb", username: "app", grants: [{ database: "app", privileges: ["SELECT"] }] }), mariadb, engines), []);
  assert.deepEqual(databaseUserCauses(user({ componentName: "mariadb", username: "app", grants: [{ database: "app", privileges: ["SUPER"] }] }), mariadb, engines).map((c) => c.field), ["spec.grants[0].privileges[0]"]);
  assert.deepEqual(databaseUserCauses(user({ componentName: "mariadb", username: "app", grants: [{ database: "*", privileges: ["SELECT"] }] }), mariadb, engines).map((c) => c.field), ["spec.grants[0].database"]);
  assert.deepEqual(databaseUserCauses(user({ componentName: "mariadb", username: "root" }), mariadb, engines).map((c) => c.field), ["spec.username"]);
});

void test("a Sentinel component serves no data: a user there is refused, naming the data component", () => {
  const replication = clusterSchema.parse({ apiVersion: "apps.kubeblocks.io/v1", kind: "Cluster", metadata: { name: "c", namespace: "demo" }, spec: { clusterDef: "redis", topology: "replication", componentSpecs: [{ name: "redis", replicas: 2 }, { name: "redis-sentinel", replicas: 3 }] } });
  const refused = databaseUserCauses(user({ componentName: "redis-sentinel", username: "reader", grants: [{ keys: ["a:*"], categories: ["read"] }] }), replication, engines);
  assert.deepEqual(refused.map((c) => c.field), ["spec.componentName"]);
  assert.match(refused[0]?.message ?? "", /name redis$/);
  assert.deepEqual(databaseUserCauses(user({ componentName: "redis", username: "reader", grants: [{ keys: ["a:*"], categories: ["read"] }] }), replication, engines), []);
});

void test("the cluster, component and username cannot change", () => {
  const old = user({ componentName: "postgresql", username: "app" });
  assert.deepEqual(immutableCauses(user({ componentName: "postgresql", username: "app2" }), old).map((c) => c.field), ["spec.username"]);
  assert.deepEqual(immutableCauses(old, old), []);
});
