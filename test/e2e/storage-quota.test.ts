/**
 * Storage quotas and VolumeExpansion (issue 14 done-when 4, issue 15 done-when 1 for MariaDB; ADR 0048).
 * PostgreSQL with a small quota: a writer fills it; StorageNearlyFull then StorageFull (conditions and Warning events)
 * come before the host's disk fills; writes are refused with PostgreSQL's read-only error while reads work; a shrink is
 * refused at admission naming the field and a size beyond the free disk fails; the example volumeexpand.yaml raises
 * the quota with no restart and writes work again; after a restart too. Then the Redis and MariaDB examples.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { statfs } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import type { Cluster, Condition, Instance, OpsRequest } from "../../src/api/index.ts";
import { createMariadbEngine } from "../../src/engines/index.ts";
import { clusterCaFile, connectionUri, installedPostgresMajor, installedRedisVersion, psql, redisCli, redisConnection } from "../helpers/clients.ts";
import { eventually, run, TestServer, type CliResult } from "../helpers/harness.ts";
import { example, exampleWith, postgresExample } from "../helpers/manifests.ts";

const NS = "demo";
const MI = 2 ** 20;
const GI = 2 ** 30;
/** Loopback address of this file's control plane. */
const LISTEN = "127.0.73.1";

let server: TestServer;

before(async () => {
  server = await TestServer.start({ initArgs: ["--advertise", LISTEN], listenHost: LISTEN });
  await server.ok(["create", "namespace", NS]);
});

after(async () => {
  await server.destroy();
});

async function cluster(name: string): Promise<Cluster> {
  return server.api<Cluster>(`/apis/apps.kubeblocks.io/v1/namespaces/${NS}/clusters/${name}`);
}

async function instance(name: string): Promise<Instance> {
  return server.api<Instance>(`/apis/holdfast.io/v1alpha1/namespaces/${NS}/instances/${name}`);
}

async function ops(name: string): Promise<OpsRequest> {
  return server.api<OpsRequest>(`/apis/operations.kubeblocks.io/v1alpha1/namespaces/${NS}/opsrequests/${name}`);
}

function condition(c: Cluster, type: string): Condition | undefined {
  return c.status?.conditions?.find((x) => x.type === type);
}

/** Apply an OpsRequest and wait for it to end. */
async function applyOps(manifest: string, name: string, timeoutMs = 300_000): Promise<OpsRequest> {
  await server.ok(["apply", "-f", "-"], manifest);
  return eventually(`OpsRequest ${name} ended`, async () => {
    const current = await ops(name);
    return ["Succeed", "Failed", "Cancelled", "Aborted"].includes(current.status?.phase ?? "") ? current : undefined;
  }, timeoutMs);
}

/** An example volumeexpand.yaml pointed at `clusterName` with `storage`, applied; it must succeed. */
async function expandTo(path: string, clusterName: string, storage: string): Promise<void> {
  const name = `${clusterName}-expansion`;
  const done = await applyOps(await exampleWith(path, (doc) => {
    doc["metadata"].name = name;
    doc["spec"].clusterName = clusterName;
    doc["spec"].volumeExpansion[0].volumeClaimTemplates[0].storage = storage;
  }), name);
  assert.equal(done.status?.phase, "Succeed", done.status?.message);
}

/** The Warning events of kind Cluster `name` with `reason`. */
async function clusterEvents(name: string, reason: string): Promise<{ type: string; message: string }[]> {
  const list = await server.api<{ items: { type: string; reason: string; message: string; involvedObject: { kind: string; name: string } }[] }>(`/api/v1/namespaces/${NS}/events`);
  return list.items.filter((e) => e.involvedObject.kind === "Cluster" && e.involvedObject.name === name && e.reason === reason);
}

/** Inserts 1 MiB rows (uncompressed) until the server refuses one; remembers the refusal. */
async function fillUntilRefused(uri: string, onRow: () => Promise<void>): Promise<{ rows: number; refusal: string }> {
  const client = new pg.Client({ connectionString: uri, connectionTimeoutMillis: 30_000 });
  await client.connect();
  try {
    await client.query("CREATE TABLE fill (id serial PRIMARY KEY, payload text)");
    await client.query("ALTER TABLE fill ALTER payload SET STORAGE EXTERNAL");
    for (let rows = 0; rows < 4096; rows++) {
      try {
        await client.query("INSERT INTO fill (payload) SELECT string_agg(md5(random()::text), '') FROM generate_series(1, 32768)");
      } catch (error) {
        return { rows, refusal: error instanceof Error ? error.message : String(error) };
      }
      await onRow();
      // A steady writer (about 10 MiB/s of data and WAL), not a burst: the agent measures every 2 s, every 0.5 s from 90%.
      await sleep(150);
    }
    return assert.fail("4 GiB written without a refusal");
  } finally {
    await client.end();
  }
}

describe("PostgreSQL storage quota", { timeout: 900_000 }, () => {
  const NAME = "pg-cluster";
  const MEMBER = `${NAME}-postgresql-0`;
  let uri: string;

  test("the example cluster with a 160Mi data volume runs and reports its usage against the quota", async () => {
    const major = await installedPostgresMajor();
    await server.ok(["apply", "-f", "-"], await postgresExample(major, (doc) => {
      doc["spec"].componentSpecs[0].volumeClaimTemplates[0].spec.resources.requests.storage = "160Mi";
    }));
    await server.ok(["wait", `cluster/${NAME}`, "-n", NS, "--for=phase=Running", "--timeout=240s"]);
    const storage = await eventually("storage measured", async () => (await instance(MEMBER)).status?.storage, 30_000);
    assert.equal(storage.quotaBytes, 160 * MI);
    assert.equal(storage.level, "Ok");
    assert.ok(storage.usedBytes > 16 * MI && storage.usedBytes < 128 * MI, `initial usage ${storage.usedBytes}`);
    console.log(`initial usage ${(storage.usedBytes / MI).toFixed(1)} MiB of a 160 MiB quota`);
    const c = await cluster(NAME);
    assert.equal(condition(c, "StorageFull")?.status, "False");
    assert.ok(!(condition(c, "RuntimeLimitations")?.message ?? "").includes("volume data"), "the data volume's size is honoured now");
    uri = await connectionUri(server, NAME, NS);
  });

  test("a writer fills it: StorageNearlyFull, then StorageFull and refused writes, before the host's disk fills", async () => {
    const seen: string[] = [];
    const watch = async (): Promise<void> => {
      const c = await cluster(NAME);
      for (const type of ["StorageNearlyFull", "StorageFull"]) if (condition(c, type)?.status === "True" && !seen.includes(type)) seen.push(type);
    };
    const started = performance.now();
    const { rows, refusal } = await fillUntilRefused(uri, watch);
    console.log(`refused after ${rows} MiB rows in ${Math.round(performance.now() - started)} ms: ${refusal}`);
    assert.match(refusal, /cannot execute INSERT in a read-only transaction/);
    await eventually("StorageFull on the cluster", async () => {
      await watch();
      return seen.includes("StorageFull") ? true : undefined;
    }, 30_000);
    assert.deepEqual(seen, ["StorageNearlyFull", "StorageFull"], "nearly full was seen, and not after full");
    const conditions = await cluster(NAME);
    const nearlySince = Date.parse(condition(conditions, "StorageNearlyFull")?.lastTransitionTime ?? "");
    const fullSince = Date.parse(condition(conditions, "StorageFull")?.lastTransitionTime ?? "");
    assert.ok(nearlySince <= fullSince, "StorageNearlyFull came no later than StorageFull");
    console.log(`StorageNearlyFull ${fullSince - nearlySince} ms before StorageFull`);
    const disk = await statfs("/tmp");
    assert.ok(disk.bavail * disk.bsize > GI, "the host's disk is far from full");
    const storage = (await instance(MEMBER)).status?.storage;
    assert.equal(storage?.level, "Full");
    const over = ((storage.usedBytes) - 160 * MI) / MI;
    console.log(`writes refused at ${over.toFixed(1)} MiB over the quota (measured every 0.5 s from 90% on)`);
    assert.ok(over < 128, `stopped close to the quota: ${over} MiB over`);
    assert.match(condition(await cluster(NAME), "StorageFull")?.message ?? "", /pg-cluster-postgresql-0: .* of 160Mi \(1\d\d%\)/);
    assert.equal((await clusterEvents(NAME, "StorageNearlyFull"))[0]?.type, "Warning");
    assert.match((await clusterEvents(NAME, "StorageFull"))[0]?.message ?? "", /storage quota reached.*writes that would grow the data are refused/);
  });

  test("while full: reads work, an INSERT is refused with a clear error, a superuser can still delete", async () => {
    const count = await psql(uri, "SELECT count(*) > 0 FROM fill");
    assert.equal(count.code, 0, count.stderr);
    assert.equal(count.stdout.trim(), "t");
    const insert = await psql(uri, "INSERT INTO fill (payload) VALUES ('x')");
    assert.notEqual(insert.code, 0);
    assert.match(insert.stderr, /cannot execute INSERT in a read-only transaction/);
    const deleted = await psql(uri, "BEGIN READ WRITE; DELETE FROM fill WHERE id = 1; COMMIT");
    assert.equal(deleted.code, 0, deleted.stderr);
  });

  test("a shrink is refused at admission naming the field; a size beyond the host's free disk fails", async () => {
    const shrink = await server.cli(["apply", "-f", "-"], await exampleWith("postgresql/volumeexpand.yaml", (doc) => {
      doc["metadata"].name = "pg-shrink";
      doc["spec"].volumeExpansion[0].volumeClaimTemplates[0].storage = "100Mi";
    }));
    assert.notEqual(shrink.code, 0);
    assert.match(shrink.stdout + shrink.stderr, /spec\.volumeExpansion\[0\]\.volumeClaimTemplates\[0\]\.storage.*100Mi is smaller than the current 160Mi/s);
    const huge = await applyOps(await exampleWith("postgresql/volumeexpand.yaml", (doc) => {
      doc["metadata"].name = "pg-too-big";
      doc["spec"].volumeExpansion[0].volumeClaimTemplates[0].storage = "4000Ti";
    }), "pg-too-big");
    assert.equal(huge.status?.phase, "Failed");
    assert.match(huge.status.message ?? "", /does not fit the host's free disk/);
    assert.equal((await instance(MEMBER)).spec.storageQuota, 160 * MI, "the quota is unchanged");
  });

  test("volumeexpand.yaml, unchanged: Succeed without a restart; writes work again; StorageFull clears", async () => {
    const pid = (await instance(MEMBER)).status?.pid;
    const done = await applyOps(await example("postgresql/volumeexpand.yaml"), "pg-volumeexpansion");
    assert.equal(done.status?.phase, "Succeed", done.status?.message);
    assert.equal(done.status.progress, "1/1");
    const member = await instance(MEMBER);
    assert.equal(member.status?.storage?.quotaBytes, 30 * GI);
    assert.equal(member.status.pid, pid, "no restart");
    const c = await cluster(NAME);
    assert.equal(c.spec.componentSpecs[0]?.volumeClaimTemplates?.[0]?.spec?.resources?.requests?.["storage"], "30Gi");
    assert.equal(condition(c, "StorageFull")?.status, "False");
    const insert = await psql(uri, "INSERT INTO fill (payload) VALUES ('after expansion') RETURNING payload");
    assert.equal(insert.code, 0, insert.stderr);
    assert.equal((await clusterEvents(NAME, "StorageRecovered")).length + (await clusterEvents(NAME, "StorageBelowQuota")).length > 0, true);
  });

  test("restart.yaml: the database restarts with its data and takes writes", async () => {
    const before = await psql(uri, "SELECT count(*) FROM fill");
    const done = await applyOps(await example("postgresql/restart.yaml"), "pg-restart");
    assert.equal(done.status?.phase, "Succeed", done.status?.message);
    const after = await eventually("reads after the restart", async () => {
      const result = await psql(uri, "SELECT count(*) FROM fill");
      return result.code === 0 ? result : undefined;
    }, 60_000);
    assert.equal(after.stdout, before.stdout);
    const insert = await psql(uri, "INSERT INTO fill (payload) VALUES ('after restart')");
    assert.equal(insert.code, 0, insert.stderr);
    await server.ok(["delete", "cluster", NAME, "-n", NS]);
  });
});

describe("Redis volumeexpand.yaml", { timeout: 600_000 }, () => {
  const NAME = "redis-replication";

  test("the example cluster runs; volumeexpand.yaml reaches Succeed; redis-cli writes and reads", async () => {
    const version = await installedRedisVersion();
    await server.ok(["apply", "-f", "-"], await exampleWith("redis/cluster.yaml", (doc) => {
      for (const component of doc["spec"].componentSpecs) component.serviceVersion = version;
    }));
    await server.ok(["wait", `cluster/${NAME}`, "-n", NS, "--for=phase=Running", "--timeout=240s"]);
    const done = await applyOps(await example("redis/volumeexpand.yaml"), "redis-volumeexpansion");
    assert.equal(done.status?.phase, "Succeed", done.status?.message);
    assert.equal(done.status.progress, "2/2");
    for (const ordinal of [0, 1]) assert.equal((await instance(`${NAME}-redis-${ordinal}`)).status?.storage?.quotaBytes, 30 * GI);
    assert.equal((await instance(`${NAME}-redis-sentinel-0`)).spec.storageQuota, 20 * GI, "the Sentinels keep theirs");
    const connection = await redisConnection(server, NAME, NS);
    const set = await redisCli(connection, "SET", "expanded", "yes");
    assert.equal(set.stdout.trim(), "OK", set.stderr);
    assert.equal((await redisCli(connection, "GET", "expanded")).stdout.trim(), "yes");
    await server.ok(["delete", "cluster", NAME, "-n", NS]);
  });
});

describe("Redis storage quota", { timeout: 600_000 }, () => {
  const NAME = "redis-standalone";
  const MEMBER = `${NAME}-redis-0`;

  test("writes fill a 16Mi quota through the AOF: StorageFull, SET refused, GET and DEL work; an expansion lifts it", async () => {
    const version = await installedRedisVersion();
    await server.ok(["apply", "-f", "-"], await exampleWith("redis/cluster-standalone.yaml", (doc) => {
      doc["spec"].componentSpecs[0].serviceVersion = version;
      doc["spec"].componentSpecs[0].volumeClaimTemplates[0].spec.resources.requests.storage = "16Mi";
    }));
    await server.ok(["wait", `cluster/${NAME}`, "-n", NS, "--for=phase=Running", "--timeout=240s"]);
    await eventually("storage measured", async () => (await instance(MEMBER)).status?.storage, 30_000);
    const connection = await redisConnection(server, NAME, NS);
    const value = "v".repeat(256 * 1024);
    let refusal = "";
    for (let i = 0; i < 400 && refusal === ""; i++) {
      const set = await run("redis-cli", ["--no-auth-warning", "--tls", "--cacert", connection.caFile, "-u", connection.uri, "-x", "SET", `key-${i}`], { input: value, timeoutMs: 30_000 });
      if (!set.stdout.includes("OK")) refusal = set.stdout + set.stderr;
      else if (i % 8 === 0) await sleep(100);
    }
    console.log(`Redis refused a write: ${refusal.trim()}`);
    assert.match(refusal, /OOM command not allowed/);
    assert.equal(condition(await cluster(NAME), "StorageFull")?.status, "True");
    assert.equal((await redisCli(connection, "GET", "key-0")).stdout.trim().length, value.length);
    assert.equal((await redisCli(connection, "DEL", "key-0")).stdout.trim(), "1");
    await expandTo("redis/volumeexpand.yaml", NAME, "256Mi");
    assert.equal((await redisCli(connection, "SET", "after", "expansion")).stdout.trim(), "OK");
    assert.equal(condition(await cluster(NAME), "StorageFull")?.status, "False");
    await server.ok(["delete", "cluster", NAME, "-n", NS]);
  });
});

const mariadbVersions = await createMariadbEngine().detectVersions();
const noMariadb = mariadbVersions.length === 0 ? "mariadbd is not installed" : false;

describe("MariaDB verticalscale.yaml and volumeexpand.yaml", { skip: noMariadb, timeout: 600_000 }, () => {
  const NAME = "mariadb-cluster";
  const MEMBER = `${NAME}-mariadb-0`;

  /** The real mariadb client as the generated administrator, over TLS checked against the cluster CA; credentials on stdin. */
  async function mariadb(sql: string, name = NAME): Promise<string> {
    const result = await mariadbRun(sql, name);
    assert.equal(result.code, 0, result.stderr);
    return result.stdout.trim();
  }

  async function mariadbRun(sql: string, name: string): Promise<CliResult> {
    const url = new URL(await connectionUri(server, name, NS));
    const options = `[client]\nuser=${decodeURIComponent(url.username)}\npassword=${decodeURIComponent(url.password)}\n`;
    const ca = clusterCaFile(server);
    return run("sh", ["-c", `exec mariadb --defaults-extra-file=/dev/stdin "$@" <<'EOF'\n${options}EOF`, "mariadb", `--host=${url.hostname}`, `--port=${url.port}`, "--protocol=TCP", "--ssl", `--ssl-ca=${ca}`, "-N", "-B", "-e", sql], { timeoutMs: 60_000 });
  }

  test("the example cluster runs with its 20Gi quota", async () => {
    await server.ok(["apply", "-f", "-"], await exampleWith("mariadb/cluster.yaml", (doc) => (doc["spec"].componentSpecs[0].serviceVersion = mariadbVersions[0]?.version)));
    await server.ok(["wait", `cluster/${NAME}`, "-n", NS, "--for=phase=Running", "--timeout=240s"]);
    const storage = await eventually("storage measured", async () => (await instance(MEMBER)).status?.storage, 30_000);
    assert.equal(storage.quotaBytes, 20 * GI);
  });

  test("verticalscale.yaml, unchanged: Succeed, and the buffer pool follows the new memory limit", async () => {
    const before = Number(await mariadb("SELECT @@innodb_buffer_pool_size"));
    const done = await applyOps(await example("mariadb/verticalscale.yaml"), "mariadb-verticalscaling");
    assert.equal(done.status?.phase, "Succeed", done.status?.message);
    const after = Number(await eventually("the server answers", async () => mariadb("SELECT @@innodb_buffer_pool_size").catch(() => undefined), 60_000));
    assert.ok(after > before, `innodb_buffer_pool_size ${before} → ${after}`);
    console.log(`MariaDB VerticalScaling 0.5Gi → 1Gi: innodb_buffer_pool_size ${before} → ${after}`);
  });

  test("volumeexpand.yaml, unchanged: Succeed with no restart, the quota raised in status", async () => {
    const pid = (await instance(MEMBER)).status?.pid;
    const done = await applyOps(await example("mariadb/volumeexpand.yaml"), "mariadb-volumeexpansion");
    assert.equal(done.status?.phase, "Succeed", done.status?.message);
    const member = await instance(MEMBER);
    assert.equal(member.status?.storage?.quotaBytes, 30 * GI);
    assert.equal(member.status.pid, pid, "no restart");
    assert.equal(await mariadb("CREATE DATABASE IF NOT EXISTS grown; SELECT 'ok'"), "ok");
    await server.ok(["delete", "cluster", NAME, "-n", NS]);
  });

  test("a filled quota: StorageFull, new sessions refused writes with MariaDB's error, reads work; expansion lifts it", async () => {
    const QUOTA = "mariadb-quota";
    const usage = async (): Promise<number> => (await instance(`${QUOTA}-mariadb-0`)).status?.storage?.usedBytes ?? 0;
    await server.ok(["apply", "-f", "-"], await exampleWith("mariadb/cluster.yaml", (doc) => {
      doc["metadata"].name = QUOTA;
      doc["spec"].componentSpecs[0].serviceVersion = mariadbVersions[0]?.version;
      doc["spec"].componentSpecs[0].volumeClaimTemplates[0].spec.resources.requests.storage = "400Mi";
    }));
    await server.ok(["wait", `cluster/${QUOTA}`, "-n", NS, "--for=phase=Running", "--timeout=240s"]);
    const initial = await eventually("storage measured", async () => ((await usage()) > 0 ? usage() : undefined), 30_000);
    console.log(`MariaDB initial usage ${(initial / MI).toFixed(1)} MiB of a 400 MiB quota`);
    await mariadb("CREATE DATABASE fill; CREATE TABLE fill.rows (id INT AUTO_INCREMENT PRIMARY KEY, payload LONGBLOB)", QUOTA);
    let refusal = "";
    for (let round = 0; round < 200 && refusal === ""; round++) {
      const insert = await mariadbRun(Array.from({ length: 8 }, () => "INSERT INTO fill.rows (payload) SELECT REPEAT(MD5(RAND()), 32768)").join("; "), QUOTA);
      if (insert.code !== 0) refusal = insert.stderr;
    }
    console.log(`MariaDB refused a write at ${((await usage()) / MI).toFixed(1)} MiB: ${refusal.trim()}`);
    assert.match(refusal, /READ ONLY transaction/);
    assert.equal(condition(await cluster(QUOTA), "StorageFull")?.status, "True");
    assert.notEqual(await mariadb("SELECT COUNT(*) FROM fill.rows", QUOTA), "0");
    assert.equal((await instance(`${QUOTA}-mariadb-0`)).status?.role, "primary", "still the primary to the role probe");
    await expandTo("mariadb/volumeexpand.yaml", QUOTA, "4Gi");
    assert.equal(await mariadb("INSERT INTO fill.rows (payload) VALUES ('after'); SELECT 'ok'", QUOTA), "ok");
    await server.ok(["delete", "cluster", QUOTA, "-n", NS]);
  });
});
