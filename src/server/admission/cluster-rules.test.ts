import { test } from "node:test";
import assert from "node:assert/strict";
import { clusterSchema, type Cluster } from "../../api/index.ts";
import { EngineCatalog, builtinEngines, type EngineVersion } from "../../engines/index.ts";
import { clusterCauses, enginesOf } from "./cluster-rules.ts";

const engines = new EngineCatalog(builtinEngines());
const PG15: EngineVersion = { version: "15.18", major: "15", binDir: "/usr/lib/postgresql/15/bin" };
const REDIS7: EngineVersion = { version: "7.0.15", major: "7", binDir: "/usr/bin" };
const MARIADB: EngineVersion = { version: "10.11.18", major: "10.11", binDir: "/usr/sbin" };
const INSTALLED = new Map<string, readonly EngineVersion[]>([
  ["postgresql", [PG15]],
  ["redis", [REDIS7]],
  ["mariadb", [MARIADB]],
]);
const OFFER = "installed engines: postgresql 15.18; redis 7.0.15; mariadb 10.11.18";

function cluster(spec: Record<string, unknown>, name = "pg"): Cluster {
  return clusterSchema.parse({ apiVersion: "apps.kubeblocks.io/v1", kind: "Cluster", metadata: { name, namespace: "demo" }, spec });
}

function pg(component: Record<string, unknown> = {}, spec: Record<string, unknown> = {}, name = "pg"): Cluster {
  return cluster({ clusterDef: "postgresql", componentSpecs: [{ name: "postgresql", ...component }], ...spec }, name);
}

function causes(value: Cluster, options: { old?: Cluster; installed?: ReadonlyMap<string, readonly EngineVersion[]> } = {}) {
  return clusterCauses({ cluster: value, old: options.old, engines, installed: options.installed ?? INSTALLED });
}

function fields(value: Cluster, options: Parameters<typeof causes>[1] = {}): string[] {
  return causes(value, options).map((c) => c.field);
}

void test("a plain PostgreSQL cluster on an installed major version is accepted", () => {
  assert.deepEqual(causes(pg({ serviceVersion: "15" })), []);
  assert.deepEqual(causes(pg()), [], "no serviceVersion asks for the newest installed");
  assert.deepEqual(causes(pg({}, { topology: "standalone" })), []);
});

void test("an unknown clusterDef lists the installed engines and versions, once", () => {
  const found = causes(cluster({ clusterDef: "oracle", componentSpecs: [{ name: "oracle" }, { name: "other" }] }));
  assert.equal(found.length, 1);
  assert.equal(found[0]?.field, "spec.clusterDef");
  assert.equal(found[0].message, `Unsupported value: "oracle": no engine of this name is known to this host; ${OFFER}`);
});

void test("a MySQL manifest is refused: MySQL is not installed, MariaDB is not run under its name", () => {
  const byClusterDef = causes(cluster({ clusterDef: "mysql", componentSpecs: [{ name: "mysql", serviceVersion: "8.0.35" }] }));
  assert.deepEqual(byClusterDef.map((c) => c.field), ["spec.clusterDef"]);
  assert.match(byClusterDef[0]?.message ?? "", /^Unsupported value: "mysql": mysql server binaries are not installed on this host .*set clusterDef or componentDef to mariadb\); installed engines: postgresql 15.18; redis 7.0.15; mariadb 10.11.18$/);
  const byComponentDef = causes(cluster({ componentSpecs: [{ name: "mysql", componentDef: "mysql-8.0", serviceVersion: "8.0.35" }] }));
  assert.deepEqual(byComponentDef.map((c) => c.field), ["spec.componentSpecs[0].componentDef"]);
  assert.match(byComponentDef[0]?.message ?? "", /"mysql-8.0": mysql server binaries are not installed .*mariadb 10.11.18$/);
  const mysqlVersion = causes(cluster({ componentSpecs: [{ name: "mariadb", componentDef: "mariadb", serviceVersion: "8.0.35" }] }));
  assert.deepEqual(mysqlVersion.map((c) => c.field), ["spec.componentSpecs[0].serviceVersion"]);
  assert.match(mysqlVersion[0]?.message ?? "", /"8.0.35": installed mariadb versions: 10.11.18; .*; installed engines: postgresql 15.18; redis 7.0.15; mariadb 10.11.18$/);
  assert.deepEqual(causes(cluster({ componentSpecs: [{ name: "mariadb", componentDef: "mariadb", serviceVersion: "10.11" }] })), []);
});

void test("componentDef may name an engine with a version suffix instead of clusterDef", () => {
  assert.deepEqual(causes(cluster({ componentSpecs: [{ name: "postgresql", componentDef: "postgresql-15" }] })), []);
  assert.deepEqual(causes(cluster({ componentSpecs: [{ name: "cache", componentDef: "redis" }] })), [], "componentDef leaves the name free");
  const unknown2 = causes(cluster({ componentSpecs: [{ name: "db", componentDef: "oracle-19" }] }));
  assert.deepEqual(unknown2.map((c) => c.field), ["spec.componentSpecs[0].componentDef"]);
  assert.match(unknown2[0]?.message ?? "", new RegExp(`${OFFER}$`));
  const missing = causes(cluster({ componentSpecs: [{ name: "db" }] }));
  assert.equal(missing[0]?.reason, "FieldValueRequired");
});

void test("a componentDef of another engine than clusterDef is refused", () => {
  assert.deepEqual(fields(pg({ componentDef: "redis" })), ["spec.componentSpecs[0].componentDef"]);
});

void test("an unknown topology lists the valid ones", () => {
  const found = causes(pg({}, { topology: "raft" }));
  assert.deepEqual(found.map((c) => c.field), ["spec.topology"]);
  assert.match(found[0]?.message ?? "", /postgresql has topologies: replication, standalone/);
});

void test("component names must be the topology's", () => {
  const found = causes(cluster({ clusterDef: "postgresql", componentSpecs: [{ name: "db" }] }));
  assert.deepEqual(found.map((c) => c.field), ["spec.componentSpecs[0].name"]);
  assert.match(found[0]?.message ?? "", /topology replication of postgresql has components: postgresql/);
});

void test("replicas outside the topology's range say plainly what is not supported", () => {
  const six = causes(pg({ replicas: 6 }));
  assert.deepEqual(six.map((c) => c.field), ["spec.componentSpecs[0].replicas"]);
  assert.match(six[0]?.message ?? "", /^Invalid value: 6: .*at most 5 .*not supported yet/);
  assert.deepEqual(causes(pg({ replicas: 3 })), [], "the replication topology runs a primary and up to four replicas");
  const standalone = causes(pg({ replicas: 2 }, { topology: "standalone" }));
  assert.match(standalone[0]?.message ?? "", /^Invalid value: 2: .*at most 1 /);
  const zero = causes(pg({ replicas: 0 }));
  assert.match(zero[0]?.message ?? "", /needs at least 1/);
});

void test("Redis replication needs its Sentinel component, 1 to 5 of them", () => {
  const withoutSentinel = causes(cluster({ clusterDef: "redis", topology: "replication", componentSpecs: [{ name: "redis", replicas: 2 }] }, "cache"));
  assert.deepEqual(withoutSentinel.map((c) => c.field), ["spec.componentSpecs"]);
  assert.match(withoutSentinel[0]?.message ?? "", /needs component redis-sentinel .*add it/);
  const sentinels = (replicas: number): ReturnType<typeof causes> =>
    causes(cluster({ clusterDef: "redis", topology: "replication", componentSpecs: [{ name: "redis", replicas: 2 }, { name: "redis-sentinel", replicas }] }, "cache"));
  assert.deepEqual(sentinels(3), []);
  assert.match(sentinels(6)[0]?.message ?? "", /^Invalid value: 6: .*at most 5 replica\(s\) of redis-sentinel/);
  assert.match(sentinels(0)[0]?.message ?? "", /needs at least 1 replica\(s\) of redis-sentinel/);
});

void test("a serviceVersion that is not installed lists the installed versions", () => {
  const found = causes(pg({ serviceVersion: "14.7.2" }));
  assert.deepEqual(found.map((c) => c.field), ["spec.componentSpecs[0].serviceVersion"]);
  assert.match(found[0]?.message ?? "", /"14.7.2": installed postgresql versions: 15.18; .*holdfast engines install/);
});

void test("with nothing installed the message says how to install", () => {
  const found = causes(pg(), { installed: new Map() });
  assert.equal(found[0]?.message, "no version of postgresql is installed on this host; run holdfast engines install postgresql; installed engines: postgresql (none installed); redis (none installed); mariadb (none installed)");
});

void test("the cluster name must be a DNS-1123 label", () => {
  assert.deepEqual(fields(pg({}, {}, "db.example")), ["metadata.name"]);
});

void test("the cluster name must leave room for <cluster>-<component>-<ordinal>", () => {
  const longest = "a".repeat(63 - "-postgresql-0".length);
  assert.deepEqual(causes(pg({}, {}, longest)), []);
  const found = causes(pg({}, {}, `${longest}b`));
  assert.deepEqual(found.map((c) => c.field), ["metadata.name"]);
  assert.match(found[0]?.message ?? "", /would be 64 characters, more than 63/);
});

void test("duplicate component names are refused", () => {
  const value = cluster({ componentSpecs: [{ name: "a", componentDef: "redis" }, { name: "a", componentDef: "redis" }] });
  assert.deepEqual(fields(value), ["spec.componentSpecs[1].name"]);
});

void test("clusterDef and topology are immutable; writing the default topology explicitly is no change", () => {
  const old = pg();
  assert.deepEqual(causes(pg({}, { topology: "replication" }), { old }), []);
  assert.deepEqual(fields(pg({}, { topology: "standalone" }), { old }), ["spec.topology"]);
  const redis = cluster({ clusterDef: "redis", componentSpecs: [{ name: "postgresql" }] });
  assert.ok(fields(redis, { old }).includes("spec.clusterDef"));
});

void test("enginesOf names each engine once", () => {
  const value = cluster({ componentSpecs: [{ name: "a", componentDef: "redis" }, { name: "b", componentDef: "redis-7" }, { name: "c", componentDef: "postgresql" }] });
  assert.deepEqual(enginesOf(value, ["postgresql", "redis"]), ["redis", "postgresql"]);
});
