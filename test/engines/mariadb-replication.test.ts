/**
 * MariaDB replication through the engine interface against real mariadbd servers (no TLS: the engine alone): a replica
 * cloned with mariadb-dump follows its primary by GTID; semi-synchronous commits; a clean stop's final position, a
 * promotion, the former primary rejoining from the end of its own binlog; a replica that diverged (its binlog holds a
 * transaction the primary never had) is told, and cloned again.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { createMariadbEngine, generatePassword, type Credentials, type EngineReplication, type InstanceContext, type ReplicationCredentials } from "../../src/engines/index.ts";
import { askMariadb } from "../../src/engines/mariadb/index.ts";
import { createTestHostAccess, type TestHostAccess } from "../helpers/host-access.ts";
import { eventually, instanceContext, removeTree, ServerProcess, traversableTempDir, waitUntil } from "./harness.ts";

const engine = createMariadbEngine();
const installed = await engine.detectVersions();
const skip = installed.length === 0 ? "mariadbd is not installed (Debian: apt-get install -y mariadb-server mariadb-client mariadb-backup)" : false;
if (skip !== false) console.log(`# skipped: ${skip}`);

/** The loopback addresses and ports given to this test's servers. */
const SERVERS = [{ address: "127.0.64.1", port: 19240 }, { address: "127.0.64.2", port: 19241 }];

describe("mariadb replication", { timeout: 600_000, skip }, () => {
  const admin: Credentials = { username: "root", password: generatePassword() };
  const credentials: ReplicationCredentials = { admin, replication: { username: "kbreplicator", password: generatePassword() } };
  const replication = engine.replication as EngineReplication;
  let host: TestHostAccess;
  let root: string;
  const contexts: InstanceContext[] = [];
  const servers: (ServerProcess | undefined)[] = [];

  const upstreamOf = (i: number): { host: string; port: number } => ({ host: SERVERS[i]?.address ?? "", port: SERVERS[i]?.port ?? 0 });
  const ask = (i: number, sql: string): Promise<string[][]> => askMariadb({ port: contexts[i]?.port ?? 0 }, admin, sql);
  const ctx = (i: number): InstanceContext => contexts[i] ?? assert.fail(`no context ${i}`);

  async function start(i: number): Promise<void> {
    const server = new ServerProcess(host.spawnServer(engine.startCommand(ctx(i)), ctx(i).runDirectory));
    servers[i] = server;
    await waitUntil(() => engine.probeReady(ctx(i).port, admin), server, 60_000);
  }

  before(async () => {
    host = await createTestHostAccess();
    root = await traversableTempDir("holdfast-mariadb-repl-");
    for (const [i, s] of SERVERS.entries()) {
      const base = await instanceContext(engine, join(root, `m${i}`), engine.parametersFor({ limits: { memory: "256Mi" } }));
      contexts.push({ ...base, instanceName: `mariadb-${i}`, port: s.port, address: s.address, peerAddresses: SERVERS.map((x) => x.address) });
    }
  });

  after(async () => {
    for (const server of servers) server?.signal("SIGKILL");
    await Promise.all(servers.flatMap((s) => (s === undefined ? [] : [s.exited])));
    await removeTree(root);
  });

  it("a primary, and a replica cloned from it with mariadb-dump, following it by GTID, read-only", async () => {
    await engine.initialize(ctx(0), [admin], host);
    await engine.configure(ctx(0), [admin], host);
    await replication.configureRole(ctx(0), { role: "primary" }, credentials, host);
    await start(0);
    await ask(0, "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO app.t VALUES (1, 'before the clone')");
    await replication.cloneReplica(ctx(1), upstreamOf(0), credentials, host);
    assert.equal(await engine.isInitialized(ctx(1)), true);
    assert.equal(await replication.lastRanAsPrimary(ctx(1)), false, "a clone is a replica from its first start");
    await engine.configure(ctx(1), [admin], host);
    await replication.configureRole(ctx(1), { role: "secondary", upstream: upstreamOf(0) }, credentials, host);
    assert.equal((await stat(join(ctx(1).runDirectory, "replica-init.sql"))).mode & 0o777, 0o600);
    await start(1);
    assert.deepEqual(await ask(1, "SELECT v FROM app.t"), [["before the clone"]]);
    assert.equal((await stat(join(ctx(1).dataDirectory, "master.info"))).mode & 0o077, 0, "master.info (which holds the replication password) is private");
    await ask(0, "INSERT INTO app.t VALUES (2, 'after the clone')");
    await eventually("the new row on the replica", async () => (await ask(1, "SELECT COUNT(*) FROM app.t"))[0]?.[0] === "2");
    const replica = await replication.probe(ctx(1).port, admin);
    const primary = await replication.probe(ctx(0).port, admin);
    assert.ok(replica !== undefined && primary !== undefined, "both answer");
    assert.equal(replica.role, "secondary");
    assert.equal(replica.streamingFrom, ctx(0).port);
    assert.equal(primary.role, "primary");
    assert.deepEqual(primary.replicas.map((r) => [r.name, r.state]), [["mariadb-1", "connected"]]);
    assert.equal(replica.received, primary.applied, "the replica holds everything the primary wrote");
    assert.deepEqual(await ask(1, "SELECT @@read_only, @@gtid_strict_mode"), [["1", "1"]]);
    const grants = (await ask(0, "SHOW GRANTS FOR 'kbreplicator'@'%'")).map((r) => r[0]).join("\n");
    assert.match(grants, /GRANT REPLICATION SLAVE, (BINLOG MONITOR|REPLICATION CLIENT) ON \*\.\*/u);
  });

  it("semi-synchronous commits: AFTER_SYNC on both, the replica acknowledging", async () => {
    for (const i of [0, 1]) await replication.configureDurability?.(ctx(i), { mode: "synchronous", quorum: 1 }, [], admin, host);
    await ask(0, "INSERT INTO app.t VALUES (3, 'semi-sync')");
    await eventually("the primary sees a semi-synchronous replica", async () => (await ask(0, "SHOW STATUS LIKE 'Rpl_semi_sync_master_clients'"))[0]?.[1] === "1");
    await ask(0, "INSERT INTO app.t VALUES (4, 'acknowledged')");
    const status = Object.fromEntries(await ask(0, "SHOW STATUS WHERE Variable_name IN ('Rpl_semi_sync_master_status', 'Rpl_semi_sync_master_yes_tx')"));
    assert.equal(status["Rpl_semi_sync_master_status"], "ON");
    assert.ok(Number(status["Rpl_semi_sync_master_yes_tx"]) >= 1, JSON.stringify(status));
    assert.deepEqual(await ask(0, "SELECT @@rpl_semi_sync_master_wait_point"), [["AFTER_SYNC"]]);
  });

  it("a clean stop says where the binlog ends; the replica has it, is promoted and accepts writes", async () => {
    await replication.fence(ctx(0), host);
    await servers[0]?.exited;
    const final = await replication.finalPosition(ctx(0), host);
    assert.match(final ?? "", /^0-\d+-\d+$/u);
    const seen = await replication.probe(ctx(1).port, admin);
    assert.ok(replication.hasReceived(final ?? "", seen?.received), `${seen?.received} holds ${final}`);
    await replication.promote(ctx(1), admin, host);
    assert.equal((await replication.probe(ctx(1).port, admin))?.role, "primary");
    // Semi-synchronous: it waits for a replica's acknowledgement from its first commit on (the former primary's, below).
    assert.deepEqual(await ask(1, "SELECT @@read_only, @@rpl_semi_sync_master_enabled"), [["0", "1"]]);
  });

  it("the former primary rejoins as a replica of the new one, from the end of its own binlog", async () => {
    assert.equal(await replication.lastRanAsPrimary(ctx(0)), true);
    await engine.configure(ctx(0), [admin], host);
    await replication.configureRole(ctx(0), { role: "secondary", upstream: upstreamOf(1) }, credentials, host);
    await start(0);
    await ask(1, "INSERT INTO app.t VALUES (5, 'on the new primary')");
    await eventually("the former primary has the new primary's row", async () => (await ask(0, "SELECT COUNT(*) FROM app.t"))[0]?.[0] === "5");
    assert.equal((await replication.probe(ctx(0).port, admin))?.streamingFrom, ctx(1).port);
    assert.equal(await replication.diverged?.(ctx(0).port, admin), false);
  });

  it("a replica whose binlog holds a transaction the primary never had is told diverged, and is cloned again", async () => {
    // root bypasses read_only (READ_ONLY ADMIN): a local write puts a GTID of the replica's own in its binlog.
    await ask(0, "INSERT INTO app.t VALUES (100, 'only here')");
    await replication.fence(ctx(0), host);
    await servers[0]?.exited;
    await replication.configureRole(ctx(0), { role: "secondary", upstream: upstreamOf(1) }, credentials, host);
    await start(0);
    await eventually("diverged", async () => (await replication.diverged?.(ctx(0).port, admin, undefined)) === true);
    await replication.fence(ctx(0), host);
    await servers[0]?.exited;
    await replication.configureRole(ctx(0), { role: "secondary", upstream: upstreamOf(1), rewind: true }, credentials, host);
    await start(0);
    await eventually("streaming again", async () => (await replication.probe(ctx(0).port, admin))?.streamingFrom === ctx(1).port);
    assert.deepEqual(await ask(0, "SELECT id FROM app.t ORDER BY id"), [["1"], ["2"], ["3"], ["4"], ["5"]], "the clone has the primary's rows and not its own");
    await ask(1, "INSERT INTO app.t VALUES (6, 'after the rebuild')");
    await eventually("replicating after the rebuild", async () => (await ask(0, "SELECT COUNT(*) FROM app.t"))[0]?.[0] === "6");
  });
});
