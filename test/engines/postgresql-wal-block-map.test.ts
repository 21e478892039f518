/**
 * The WAL block map (src/engines/postgresql/wal-block-map.ts) against a real PostgreSQL 15 and its own reader:
 * over WAL of many kinds (inserts, updates, an index build, VACUUM, a TRUNCATE, a new table, a WAL switch, records
 * across pages and segments) the blocks found are exactly those `pg_waldump` lists; a CREATE DATABASE refuses the map.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { createPostgresqlEngine, generatePassword, type Credentials, type InstanceContext } from "../../src/engines/index.ts";
import { parseLsn } from "../../src/engines/postgresql/lsn.ts";
import { readWalBlockMap, WalBlockMapReader, type WalBlockMap } from "../../src/engines/postgresql/wal-block-map.ts";
import type { WalRange } from "../../src/engines/postgresql/wal-decoder.ts";
import { createTestHostAccess, type TestHostAccess } from "../helpers/host-access.ts";
import { instanceContext, removeTree, runClient, startReady, traversableTempDir, type ServerProcess } from "./harness.ts";

const run = promisify(execFile);
const PORT = 21110;
const FORKS: Record<string, number> = { main: 0, fsm: 1, vm: 2, init: 3 };
const SEGMENT_BLOCKS = 131072;

describe("WAL block map against pg_waldump", { timeout: 300_000 }, () => {
  const engine = createPostgresqlEngine();
  const admin: Credentials = { username: "postgres", password: generatePassword() };
  let host: TestHostAccess;
  let root: string;
  let scratch: string;
  let context: InstanceContext;
  let server: ServerProcess | undefined;

  /** Run each statement on its own (psql -c … -c …), and return the output. */
  const sql = async (...statements: string[]): Promise<string> => {
    const result = await runClient(engine, context.port, admin, ["-X", "-A", "-t", "-w", "-v", "ON_ERROR_STOP=1", ...statements.flatMap((statement) => ["-c", statement])], { scratch });
    assert.equal(result.code, 0, result.output);
    return result.output.trim();
  };

  /** A checkpoint's redo position: a record's start, as a backup's start is. */
  const redo = async (): Promise<bigint> => {
    await sql("checkpoint");
    return parseLsn(await sql("select redo_lsn from pg_control_checkpoint()"));
  };

  const range = async (start: bigint, end: bigint): Promise<WalRange & { end: bigint }> => {
    const [system = "", timeline = ""] = (await sql("select (select system_identifier from pg_control_system()), (select timeline_id from pg_control_checkpoint())")).split("|");
    return { timeline: Number(timeline), segmentSize: 16 * 1024 * 1024, systemIdentifier: BigInt(system), start, end };
  };

  /** `spc/db/rel/fork/blk` of every block reference pg_waldump prints for [start, end). */
  const waldump = async (start: bigint, end: bigint): Promise<Set<string>> => {
    const lsn = (value: bigint): string => `${(value >> 32n).toString(16)}/${(value & 0xffffffffn).toString(16)}`;
    const { stdout } = await run(join(context.version.binDir, "pg_waldump"), ["-p", join(context.dataDirectory, "pg_wal"), "-s", lsn(start), "-e", lsn(end)], { maxBuffer: 1024 * 1024 * 1024 });
    const found = new Set<string>();
    // e.g. "blkref #0: rel 1663/5/16384 blk 7" or "blkref #1: rel 1663/5/16384 fork vm blk 0"
    for (const piece of stdout.split("blkref #").slice(1)) {
      const words = piece.split(/[ ,\n]/);
      const fork = words[3] === "fork" ? (words[4] ?? "?") : "main";
      found.add(`${words[2]}/${FORKS[fork]}/${words[words.indexOf("blk") + 1]}`);
    }
    return found;
  };

  before(async () => {
    host = await createTestHostAccess();
    root = await traversableTempDir("incr-wal-map-");
    scratch = await traversableTempDir("incr-wal-map-client-");
    context = { ...(await instanceContext(engine, root, engine.parametersFor({ limits: { memory: "0.5Gi" } }))), port: PORT };
    await engine.initialize(context, [admin], host);
    await engine.configure(context, [admin], host);
    server = await startReady(engine, context, admin, host, 60_000);
  });

  after(async () => {
    server?.signal("SIGKILL");
    await server?.exited;
    await removeTree(root);
    await removeTree(scratch);
  });

  it("finds exactly the blocks pg_waldump lists, across pages and segments", async () => {
    await sql("create table kept (id int primary key, v text)", "insert into kept select g, repeat('k', 40) from generate_series(1, 20000) g", "create table emptied (id int)", "insert into emptied select generate_series(1, 5000)");
    // Checkpoints recycle WAL: a slot keeps it from the start on, as the backup's does from its own start.
    await sql("select pg_create_physical_replication_slot('kept_wal', true)");
    const start = await redo();
    await sql("insert into kept select g, repeat('x', 120) from generate_series(20001, 160000) g");
    await sql("update kept set v = 'changed' where id <= 3000", "delete from kept where id between 5000 and 5200");
    await sql("create index kept_v on kept (v)", "vacuum kept", "truncate emptied", "create table fresh as select g as id from generate_series(1, 1000) g");
    await sql("select pg_switch_wal()", "insert into fresh select generate_series(1, 10)");
    await sql("insert into kept select g, repeat('y', 3000) from generate_series(160001, 160050) g");
    const end = await redo();
    await sql("select pg_drop_replication_slot('kept_wal')");
    assert.ok(end / 16777216n > start / 16777216n + 1n, "the range spans more than two segments");
    const walRange = await range(start, end);
    const started = performance.now();
    const result = await readWalBlockMap(join(context.dataDirectory, "pg_wal"), walRange, SEGMENT_BLOCKS);
    const took = performance.now() - started;
    assert.ok(result.map !== undefined, result.reason);
    console.log(`WAL block map: ${Number(end - start) >> 20} MiB of WAL, ${result.map.changes.records} records, ${result.map.blockCount} blocks in ${took.toFixed(0)} ms`);
    const blocksOf = (map: WalBlockMap): Set<string> => {
      const found = new Set<string>();
      for (const [fork, blocks] of map.changes.blocks) for (const block of blocks) found.add(`${fork}/${block}`);
      return found;
    };
    const mine = blocksOf(result.map);
    // In two steps (whole segments first, as while the backup's checkpoint runs, then up to the end): the same map.
    const reader = new WalBlockMapReader(join(context.dataDirectory, "pg_wal"), walRange, SEGMENT_BLOCKS);
    await reader.readBefore(start + (end - start) / 2n);
    const stepped = await reader.finish(end);
    assert.ok(stepped.map !== undefined, stepped.reason);
    assert.deepEqual([...blocksOf(stepped.map)].sort(), [...mine].sort());
    const theirs = await waldump(start, end);
    assert.ok(theirs.size > 1000, `pg_waldump listed ${theirs.size} blocks`);
    assert.deepEqual([...mine].filter((key) => !theirs.has(key)), [], "blocks only the map has");
    assert.deepEqual([...theirs].filter((key) => !mine.has(key)), [], "blocks only pg_waldump has");
    const emptied = await sql("select pg_relation_filenode('emptied')");
    assert.ok([...result.map.changes.untrusted].some((key) => key.endsWith(`/${emptied}`)), "the truncated table's new file is read whole");
    const kept = await sql("select pg_relation_filepath('kept')");
    assert.equal(result.map.unchanged(kept, 0, 8192 * 512), false, "the first updated blocks are not taken from the parent");
  });

  it("refuses a map over a CREATE DATABASE, and one whose start is no longer in pg_wal", async () => {
    const start = await redo();
    await sql("create database copied");
    const end = await redo();
    const refused = await readWalBlockMap(join(context.dataDirectory, "pg_wal"), await range(start, end), SEGMENT_BLOCKS);
    assert.equal(refused.map, undefined);
    assert.match(refused.reason, /database or tablespace/);
    const gone = await readWalBlockMap(join(context.dataDirectory, "pg_wal"), await range(16777216n + 40n, end), SEGMENT_BLOCKS);
    assert.equal(gone.map, undefined);
    assert.match(gone.reason, /no longer in pg_wal|recycled|another address/);
  });
});
