/**
 * The engines' backup methods against real servers, through the real backup format: pg-basebackup and Redis
 * datafile back up a running instance, restore into a new data directory with new passwords, and refuse a
 * backup with one changed byte without leaving a directory that looks initialised.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BackupIntegrityError, BackupWriter, openBackup, type BackupSummary } from "../../src/backup/index.ts";
import { createPostgresqlEngine, createRedisEngine, generatePassword, type BackupMethodDefinition, type Credentials, type Engine, type InstanceContext } from "../../src/engines/index.ts";
import { localFixture, type LocalFixture } from "../backup/backup-fixture.ts";
import { createTestHostAccess, type TestHostAccess } from "../helpers/host-access.ts";
import { ServerProcess, instanceContext, removeTree, runClient, traversableTempDir, waitUntil } from "./harness.ts";

interface Running {
  context: InstanceContext;
  server: ServerProcess;
}

/** Shared steps: start an instance (initialised or restored, its start finished), back it up, restore it. */
class Bench {
  readonly engine: Engine;
  readonly method: BackupMethodDefinition;
  host!: TestHostAccess;
  root!: string;
  fixture!: LocalFixture;
  readonly servers: ServerProcess[] = [];

  constructor(engine: Engine) {
    this.engine = engine;
    const method = engine.backupMethods[0];
    if (method === undefined) throw new Error(`${engine.name} has no backup method`);
    this.method = method;
  }

  async setUp(): Promise<void> {
    this.host = await createTestHostAccess();
    this.root = await traversableTempDir(`holdfast-${this.engine.name}-backup-`);
    this.fixture = await localFixture();
  }

  async tearDown(): Promise<void> {
    for (const server of this.servers) {
      server.signal("SIGKILL");
      await server.exited;
    }
    await removeTree(this.root);
    await this.fixture.cleanup();
  }

  async context(name: string): Promise<InstanceContext> {
    const context = await instanceContext(this.engine, join(this.root, name), this.engine.parametersFor({ limits: { memory: "0.5Gi" } }));
    await this.host.mkdir(join(this.root, name));
    return { ...context, instanceName: name };
  }

  async start(context: InstanceContext, admin: Credentials): Promise<Running> {
    await this.engine.configure(context, [admin], this.host);
    const server = new ServerProcess(this.host.spawnServer(this.engine.startCommand(context), context.runDirectory));
    this.servers.push(server);
    // As the node agent does: what the start left to finish (a restored PostgreSQL's passwords), then the probe.
    const finished = (): Promise<boolean> => this.engine.finishStart?.(context, [admin], this.host).then(() => true, () => false) ?? Promise.resolve(true);
    await waitUntil(async () => (await finished()) && (await this.engine.probeReady(context.port, admin)), server, 60_000);
    return { context, server };
  }

  async backup(running: Running, admin: Credentials, backupId: string): Promise<BackupSummary> {
    const writer = await BackupWriter.create({ repository: this.fixture.repository, keyring: this.fixture.keyring, backupId, metadata: { engine: this.engine.name } });
    const scratchDirectory = join(this.root, "scratch");
    await this.host.mkdir(scratchDirectory);
    await this.method.backup({ instance: running.context, account: admin, scratchDirectory, signal: new AbortController().signal }, writer, this.host);
    return writer.commit();
  }

  async restore(context: InstanceContext, backupId: string, admin: Credentials): Promise<void> {
    const reader = await openBackup({ repository: this.fixture.repository, keyring: this.fixture.keyring, backupId });
    await this.method.restore(context, reader, [admin], this.host);
  }

  /** Flip one byte of the first chunk of a backup's first stream. */
  async corrupt(backupId: string): Promise<string> {
    const reader = await openBackup({ repository: this.fixture.repository, keyring: this.fixture.keyring, backupId });
    const first = reader.chunkList()[0];
    if (first === undefined) throw new Error("the backup has no chunk");
    const path = join(this.fixture.repository.root, first.key);
    const bytes = await readFile(path);
    const at = Math.floor(bytes.length / 2);
    bytes[at] = (bytes[at] ?? 0) ^ 0x01;
    await writeFile(path, bytes);
    return first.key;
  }

  query(running: Running, admin: Credentials, args: string[]): Promise<string> {
    return runClient(this.engine, running.context.port, admin, args, { scratch: this.root }).then((r) => {
      if (r.code !== 0) throw new Error(r.output);
      return r.output.trim();
    });
  }
}

describe("pg-basebackup", { timeout: 300_000 }, () => {
  const bench = new Bench(createPostgresqlEngine());
  const sourceAdmin: Credentials = { username: "postgres", password: generatePassword() };
  const restoredAdmin: Credentials = { username: "postgres", password: generatePassword() };
  let source: Running;
  const psql = (running: Running, admin: Credentials, sql: string): Promise<string> => bench.query(running, admin, ["-X", "-A", "-t", "-w", "-c", sql]);

  before(async () => {
    await bench.setUp();
    const context = await bench.context("source");
    await bench.engine.initialize(context, [sourceAdmin], bench.host);
    source = await bench.start(context, sourceAdmin);
    await psql(source, sourceAdmin, "create table t (id int primary key, v text); insert into t select g, md5(g::text) from generate_series(1, 20000) g");
  });
  after(() => bench.tearDown());

  it("backs up a running server and restores it with the new cluster's password", async () => {
    const summary = await bench.backup(source, sourceAdmin, "pg-1");
    assert.deepEqual(summary.streams.map((s) => s.name), ["base.tar"]);
    const expected = await psql(source, sourceAdmin, "select count(*), md5(string_agg(v, ',' order by id)) from t");
    const context = await bench.context("restored");
    await bench.restore(context, "pg-1", restoredAdmin);
    assert.equal(await bench.engine.isInitialized(context), true);
    const restored = await bench.start(context, restoredAdmin);
    assert.equal(await psql(restored, restoredAdmin, "select count(*), md5(string_agg(v, ',' order by id)) from t"), expected);
    assert.equal(await bench.engine.probeReady(context.port, sourceAdmin), false, "the source cluster's password no longer works");
  });

  it("refuses a backup with one changed byte and leaves nothing that looks initialised", async () => {
    await bench.backup(source, sourceAdmin, "pg-2");
    const key = await bench.corrupt("pg-2");
    const context = await bench.context("bad");
    await assert.rejects(bench.restore(context, "pg-2", restoredAdmin), (error: unknown) => error instanceof BackupIntegrityError && error.location.objectKey === key);
    assert.equal(await bench.engine.isInitialized(context), false);
  });
});

describe("redis datafile", { timeout: 120_000 }, () => {
  const bench = new Bench(createRedisEngine());
  const sourceAdmin: Credentials = { username: "default", password: generatePassword() };
  const restoredAdmin: Credentials = { username: "default", password: generatePassword() };
  let source: Running;
  const cli = (running: Running, admin: Credentials, ...args: string[]): Promise<string> => bench.query(running, admin, args);

  before(async () => {
    await bench.setUp();
    const context = await bench.context("source");
    await bench.engine.initialize(context, [sourceAdmin], bench.host);
    source = await bench.start(context, sourceAdmin);
    await cli(source, sourceAdmin, "MSET", "a", "1", "b", "two", "c", "x".repeat(10_000));
    await cli(source, sourceAdmin, "RPUSH", "list", "p", "q", "r");
    // Enough data for an RDB of several chunks (and several socket reads).
    await cli(source, sourceAdmin, "EVAL", "for i = 1, 200000 do redis.call('SET', 'k' .. i, string.rep(tostring(i * 7919), 8)) end return 1", "0");
  });
  after(() => bench.tearDown());

  it("backs up the keyspace and restores it into a new instance that keeps writing to its AOF", async () => {
    const summary = await bench.backup(source, sourceAdmin, "redis-1");
    assert.ok(summary.chunks > 1, `an RDB of ${summary.plaintextBytes} bytes in ${summary.chunks} chunk(s)`);
    const context = await bench.context("restored");
    await bench.restore(context, "redis-1", restoredAdmin);
    const restored = await bench.start(context, restoredAdmin);
    assert.equal(await cli(restored, restoredAdmin, "MGET", "a", "b"), "1\ntwo");
    assert.equal(await cli(restored, restoredAdmin, "LRANGE", "list", "0", "-1"), "p\nq\nr");
    assert.equal(await cli(restored, restoredAdmin, "STRLEN", "c"), "10000");
    assert.equal(await cli(restored, restoredAdmin, "DBSIZE"), "200004");
    assert.equal(await cli(restored, restoredAdmin, "GET", "k123456"), String(123456 * 7919).repeat(8));
    await cli(restored, restoredAdmin, "SET", "after", "restore");
    restored.server.signal("SIGTERM");
    await restored.server.exited;
    const again = await bench.start(context, restoredAdmin);
    assert.equal(await cli(again, restoredAdmin, "MGET", "a", "after"), "1\nrestore");
  });

  it("refuses a backup with one changed byte", async () => {
    await bench.backup(source, sourceAdmin, "redis-2");
    const key = await bench.corrupt("redis-2");
    const context = await bench.context("bad");
    await assert.rejects(bench.restore(context, "redis-2", restoredAdmin), (error: unknown) => error instanceof BackupIntegrityError && error.location.objectKey === key);
    assert.equal(await bench.engine.isInitialized(context), false);
  });
});
