/**
 * Each cluster's processes run as its own OS user: the superuser of one PostgreSQL cluster (COPY … FROM
 * PROGRAM, pg_read_file, COPY … TO) cannot read or write a file of another cluster, of the control plane's
 * home or its keyring, and Redis cannot be pointed at another cluster's directory. Deleting a cluster
 * removes its OS user.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Instance } from "../../src/api/index.ts";
import { connectionUri, psql, redisCli, redisConnection, startDemoServer, type RedisConnection } from "../helpers/clients.ts";
import { eventually, run, type TestServer } from "../helpers/harness.ts";
import { exampleWith, postgresExample } from "../helpers/manifests.ts";

const root = process.getuid?.() === 0;
let server: TestServer;
let pgA: string;
let pgB: string;
let redis: RedisConnection;

before(async () => {
  const started = await startDemoServer();
  server = started.server;
  for (const name of ["iso-a", "iso-b"]) {
    await server.ok(["apply", "-f", "-"], await postgresExample(started.major, (doc) => (doc["metadata"].name = name)));
  }
  await server.ok(["apply", "-f", "-"], await exampleWith("redis/cluster-standalone.yaml", (doc) => (doc["metadata"].name = "iso-redis")));
  for (const name of ["iso-a", "iso-b", "iso-redis"]) await server.ok(["wait", `cluster/${name}`, "-n", "demo", "--for=phase=Running", "--timeout=120s"]);
  pgA = await connectionUri(server, "iso-a", "demo");
  pgB = await connectionUri(server, "iso-b", "demo");
  redis = await redisConnection(server, "iso-redis", "demo");
});

after(async () => {
  await server.destroy();
});

async function instance(name: string): Promise<Instance> {
  return server.api<Instance>(`/apis/holdfast.io/v1alpha1/namespaces/demo/instances/${name}`);
}

/** The instance's root directory (its data directory's parent). */
function instanceRoot(name: string): string {
  return join(server.home, "instances", "demo", name);
}

/** Some regular file below `directory` (the first found), to try to read. */
async function someFileUnder(directory: string): Promise<string> {
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isFile()) return path;
    if (entry.isDirectory()) {
      const found = await someFileUnder(path).catch(() => undefined);
      if (found !== undefined) return found;
    }
  }
  throw new Error(`no file under ${directory}`);
}

/** A SQL string literal. */
function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

async function refused(uri: string, sql: string, what: string): Promise<void> {
  const result = await psql(uri, sql);
  assert.notEqual(result.code, 0, `${what} must fail, but returned: ${result.stdout.slice(0, 200)}`);
}

describe("one OS user per cluster", { skip: !root && "needs root: as another user every database runs as the current user" }, () => {
  test("each cluster's processes run as its own unprivileged user, owning its directories 0700", async () => {
    const uids = new Map<string, number>();
    for (const name of ["iso-a-postgresql-0", "iso-b-postgresql-0", "iso-redis-redis-0"]) {
      const live = await instance(name);
      assert.ok(live.status?.pid !== undefined);
      const info = await stat(`/proc/${live.status.pid}`);
      assert.notEqual(info.uid, 0, `${name} runs as root`);
      const directory = await stat(instanceRoot(name));
      assert.equal(directory.uid, info.uid, `${name}'s directory belongs to its process' user`);
      assert.equal(directory.mode & 0o777, 0o700);
      uids.set(name, info.uid);
    }
    assert.equal(new Set(uids.values()).size, 3, `every cluster has its own user: ${JSON.stringify([...uids])}`);
  });

  test("the control of the test: a cluster's superuser reads its own files", async () => {
    const own = join((await instance("iso-b-postgresql-0")).status?.dataDirectory ?? "", "PG_VERSION");
    const result = await psql(pgB, `select pg_read_file(${literal(own)})`);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^\d+/);
  });

  test("PostgreSQL's superuser cannot read another cluster's files", async () => {
    const otherPg = join((await instance("iso-b-postgresql-0")).status?.dataDirectory ?? "", "PG_VERSION");
    const otherRedis = await someFileUnder(instanceRoot("iso-redis-redis-0"));
    const otherLog = join(server.home, "logs", "instances", "demo", "iso-b-postgresql-0.log");
    for (const file of [otherPg, otherRedis, otherLog]) {
      await refused(pgA, `select pg_read_file(${literal(file)})`, `pg_read_file of ${file}`);
      await psql(pgA, "create table if not exists stolen (line text)");
      await refused(pgA, `copy stolen from program ${literal(`cat ${file}`)}`, `COPY FROM PROGRAM cat ${file}`);
      await refused(pgA, `copy stolen from ${literal(file)}`, `COPY FROM ${file}`);
    }
    assert.equal((await psql(pgA, "select count(*) from stolen")).stdout.trim(), "0");
  });

  test("PostgreSQL's superuser cannot write into another cluster's directory", async () => {
    const other = instanceRoot("iso-b-postgresql-0");
    await refused(pgA, `copy (select 'x') to ${literal(join(other, "planted"))}`, "COPY TO another cluster's directory");
    await refused(pgA, `copy (select 1) to program ${literal(`touch ${join(other, "planted")}`)}`, "COPY TO PROGRAM touch in another cluster's directory");
    await assert.rejects(stat(join(other, "planted")), /ENOENT/);
  });

  test("PostgreSQL's superuser cannot read the control plane's home or its keyring", async () => {
    const audit = await someFileUnder(join(server.home, "audit"));
    const files = ["keys/secrets.keyring.json", "store.db", "auth.db", "tls/ca.key", "tls/server.key", "config.json"].map((f) => join(server.home, f));
    for (const file of [...files, audit]) {
      await refused(pgA, `select pg_read_file(${literal(file)})`, `pg_read_file of ${file}`);
      await refused(pgA, `copy stolen from program ${literal(`cat ${file}`)}`, `COPY FROM PROGRAM cat ${file}`);
    }
    await refused(pgA, `select pg_ls_dir(${literal(server.home)})`, "listing the home");
    await refused(pgA, `copy (select 1) to program ${literal(`touch ${join(server.home, "planted")}`)}`, "writing into the home");
    await assert.rejects(stat(join(server.home, "planted")), /ENOENT/);
  });

  test("Redis cannot save into another cluster's directory", async () => {
    const other = instanceRoot("iso-b-postgresql-0");
    const set = await redisCli(redis, "CONFIG", "SET", "dir", other);
    const save = await redisCli(redis, "SAVE");
    assert.ok(/ERR/.test(set.stdout + set.stderr) || /ERR/.test(save.stdout + save.stderr), `CONFIG SET dir + SAVE: ${set.stdout} ${save.stdout}`);
    const entries = await readdir(other);
    assert.ok(!entries.some((e) => e.endsWith(".rdb")), `no dump written into ${other}: ${entries.join(", ")}`);
  });

  test("deleting a cluster removes its OS user", async () => {
    const pid = (await instance("iso-a-postgresql-0")).status?.pid;
    assert.ok(pid !== undefined);
    const uid = (await stat(`/proc/${pid}`)).uid;
    const name = (await run("getent", ["passwd", String(uid)])).stdout.split(":")[0] ?? "";
    assert.match(name, /^hf-/);
    await server.ok(["delete", "cluster", "iso-a", "-n", "demo"]);
    await eventually("the OS user to be removed", async () => ((await run("getent", ["passwd", name])).code === 2 ? true : undefined), 90_000);
  });
});
