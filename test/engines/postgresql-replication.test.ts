/**
 * PostgreSQL replication building blocks against real PostgreSQL servers run as the service user:
 * a primary and two streaming standbys, lag probes, synchronous quorum commits, promotion, repointing,
 * rejoining the old primary with pg_rewind (and by re-cloning when rewinding fails), and the time a promotion
 * takes on this machine: Holdfast's (`pg_promote(false)` polled every 5 ms), `pg_ctl promote -w`, `pg_promote(true)`.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { stat, rm } from "node:fs/promises";
import { join } from "node:path";
import pg from "pg";
import { createPostgresqlEngine, generatePassword, type Credentials, type EngineVersion, type InstanceContext } from "../../src/engines/index.ts";
import {
  REPLICATION_ACCOUNT, applyReplicationPlan, chooseFailoverCandidate, cloneStandby, configureReplication, dropReplicationSlot, ensureReplicationAccount,
  fencePostgresql, isPostgresqlRunning, planReplication, planSynchronousReplication, probeReplication, promoteOverSql, promotePostgresql, rejoinAsStandby,
  stopPostgresql, type CandidateObservation, type ReplicationAccounts, type ReplicationPlan, type ReplicationStatus, type SynchronousSettings,
} from "../../src/engines/postgresql/index.ts";
import { createTestHostAccess, type TestHostAccess } from "../helpers/host-access.ts";
import { eventually, startNode, stopNode, type TestNode, filesContaining, freePort, median, removeTree, traversableTempDir } from "./harness.ts";

type Node = TestNode;

const engine = createPostgresqlEngine();

/** Holdfast's promotion (promotePostgresql): pg_promote(false), then pg_is_in_recovery() every 5 ms. */
const PROMOTE = "pg_promote(false), polled";

describe("postgresql replication", { timeout: 900_000 }, () => {
  const admin: Credentials = { username: "postgres", password: generatePassword() };
  const replication: Credentials = { username: REPLICATION_ACCOUNT.name, password: generatePassword() };
  const accounts: ReplicationAccounts = { admin, replication };
  const nodes = new Map<string, Node>();
  let host: TestHostAccess;
  let root: string;
  let version: EngineVersion;
  const promoteTimings: { method: string; ms: number }[] = [];

  async function addNode(name: string): Promise<Node> {
    const rootDirectory = join(root, name);
    const context: InstanceContext = {
      instanceName: name, rootDirectory, dataDirectory: join(rootDirectory, "data"), runDirectory: join(rootDirectory, "run"),
      port: await freePort(), version, parameters: {}, role: "primary",
    };
    const node = { context, server: undefined };
    nodes.set(name, node);
    return node;
  }

  function node(name: string): Node {
    const found = nodes.get(name);
    assert.ok(found, `no node ${name}`);
    return found;
  }

  const start = (n: Node): Promise<void> => startNode(engine, n, admin, host);
  const stop = (n: Node): Promise<void> => stopNode(engine, n);

  /** Run SQL as the superuser on `n`, through the real pg client. */
  async function sql<R extends pg.QueryResultRow = Record<string, unknown>>(n: Node, text: string, params: unknown[] = []): Promise<R[]> {
    const client = new pg.Client({ host: "127.0.0.1", port: n.context.port, user: admin.username, password: admin.password, database: "postgres", query_timeout: 60_000 });
    await client.connect();
    try {
      return (await client.query<R>(text, params)).rows;
    } finally {
      await client.end();
    }
  }

  async function rowVisible(n: Node, value: string): Promise<boolean> {
    const rows = await sql<{ n: number }>(n, "SELECT count(*)::int AS n FROM ha_test WHERE value = $1", [value]).catch(() => [{ n: 0 }]);
    return rows[0]?.n === 1;
  }

  function plan(n: Node, upstream?: Node, synchronous?: SynchronousSettings): ReplicationPlan {
    return planReplication({
      instanceName: n.context.instanceName, runDirectory: n.context.runDirectory,
      upstream: upstream === undefined ? undefined : { host: "127.0.0.1", port: upstream.context.port }, synchronous,
    });
  }

  async function status(n: Node): Promise<ReplicationStatus> {
    const result = await probeReplication(n.context.port, admin);
    assert.ok(result, `no replication status from ${n.context.instanceName}`);
    return result;
  }

  async function streamingTo(primary: Node, standbyName: string): Promise<boolean> {
    const s = await probeReplication(primary.context.port, admin);
    return s?.role === "primary" && s.replicas.some((r) => r.name === standbyName && r.state === "streaming");
  }

  /** Promote `n` by `method`; the polled one asks every 5 ms, beneath pg_ctl's and pg_promote's 100 ms polling. */
  async function promoteBy(method: string, n: Node): Promise<void> {
    if (method === PROMOTE) return promotePostgresql(n.context, admin, host);
    if (method === "pg_ctl promote -w") {
      await host.run({ command: join(n.context.version.binDir, "pg_ctl"), args: ["promote", "-D", n.context.dataDirectory, "-w"] });
      return;
    }
    if (method === "pg_promote(true)") {
      assert.equal(await promoteOverSql(n.context.port, admin), true);
      return;
    }
    await host.run({ command: join(n.context.version.binDir, "pg_ctl"), args: ["promote", "-D", n.context.dataDirectory, "-W"] });
    const client = new pg.Client({ host: "127.0.0.1", port: n.context.port, user: admin.username, password: admin.password, database: "postgres" });
    await client.connect();
    try {
      while ((await client.query<{ r: boolean }>("SELECT pg_is_in_recovery() AS r")).rows[0]?.r !== false) await new Promise((resolve) => setTimeout(resolve, 5));
    } finally {
      await client.end();
    }
  }

  async function createStandby(name: string, primary: Node): Promise<Node> {
    const n = await addNode(name);
    await cloneStandby(n.context, plan(n, primary), accounts, host);
    await start(n);
    await eventually(`${name} streaming`, () => streamingTo(primary, plan(n).name));
    return n;
  }

  before(async () => {
    host = await createTestHostAccess();
    root = await traversableTempDir("holdfast-pg-ha-");
    const found = engine.matchVersion(undefined, await engine.detectVersions());
    if (found === undefined) throw new Error("postgresql is not installed: run npm run engines:install");
    version = found;
  });

  after(async () => {
    // Whatever failed, no postgres outlives the test.
    for (const n of nodes.values()) n.server?.signal("SIGKILL");
    await Promise.all([...nodes.values()].flatMap((n) => (n.server === undefined ? [] : [n.server.exited])));
    await removeTree(root);
    if (promoteTimings.length > 0) {
      const line = (method: string): string => {
        const ms = promoteTimings.filter((t) => t.method === method).map((t) => t.ms);
        return ms.length === 0 ? "" : `${method}: median ${median(ms).toFixed(0)} ms, min ${Math.min(...ms).toFixed(0)}, max ${Math.max(...ms).toFixed(0)} over ${ms.length}`;
      };
      console.log(`promote floor on this machine — ${line(PROMOTE)}; ${line("pg_ctl promote -w")}; ${line("pg_promote(true)")}; ${line("pg_ctl promote -W, polled")}`);
    }
  });

  it("runs a primary with replication settings and a SCRAM replication account", async () => {
    const primary = await addNode("pg-0");
    await engine.initialize(primary.context, [admin], host);
    await engine.configure(primary.context, [admin], host);
    await configureReplication(primary.context, plan(primary), replication, host);
    await start(primary);
    await ensureReplicationAccount(primary.context.port, admin, replication);
    await ensureReplicationAccount(primary.context.port, admin, replication); // idempotent

    const settings = await sql<{ name: string; setting: string }>(primary, "SELECT name, setting FROM pg_settings WHERE name = ANY($1) ORDER BY name", [["wal_level", "wal_log_hints", "hot_standby", "max_wal_senders", "max_replication_slots", "wal_keep_size"]]);
    assert.deepEqual(Object.fromEntries(settings.map((s) => [s.name, s.setting])), {
      hot_standby: "on", max_replication_slots: "12", max_wal_senders: "12", wal_keep_size: "512", wal_level: "replica", wal_log_hints: "on",
    });
    const [role] = await sql<{ rolreplication: boolean; rolsuper: boolean; rolpassword: string }>(primary, "SELECT rolreplication, rolsuper, rolpassword FROM pg_authid WHERE rolname = $1", [replication.username]);
    assert.equal(role?.rolreplication, true);
    assert.equal(role.rolsuper, false);
    assert.match(role.rolpassword, /^SCRAM-SHA-256\$4096:/);
    // The computed verifier works: the account logs in with its password, and only with it.
    const login = new pg.Client({ host: "127.0.0.1", port: primary.context.port, user: replication.username, password: replication.password, database: "postgres" });
    await login.connect();
    await login.end();
    const wrong = new pg.Client({ host: "127.0.0.1", port: primary.context.port, user: replication.username, password: generatePassword(), database: "postgres" });
    wrong.on("error", () => undefined);
    await assert.rejects(wrong.connect(), /password authentication failed/);
    await wrong.end().catch(() => undefined);
    await sql(primary, "CREATE TABLE ha_test (id serial PRIMARY KEY, value text NOT NULL)");
  });

  it("clones two hot standbys that stream through their own slots", async () => {
    const primary = node("pg-0");
    await createStandby("pg-1", primary);
    await createStandby("pg-2", primary);
    for (const name of ["pg-1", "pg-2"]) {
      assert.equal(await engine.probeRole(node(name).context.port, admin), "secondary");
      const s = await status(node(name));
      assert.equal(s.role, "standby");
      assert.equal(s.timeline, 1);
      assert.equal(s.receiver?.status, "streaming");
      assert.equal(s.receiver.senderPort, primary.context.port);
      assert.equal(s.receiver.slotName, name.replace("-", "_"));
    }
    const p = await status(primary);
    assert.equal(p.role, "primary");
    assert.deepEqual(p.slots.map((slot) => [slot.name, slot.active]), [["pg_1", true], ["pg_2", true]]);
    assert.deepEqual(p.replicas.map((r) => [r.name, r.state, r.syncState]), [["pg_1", "streaming", "async"], ["pg_2", "streaming", "async"]]);
  });

  it("shows a row written on the primary on both standbys", async () => {
    await sql(node("pg-0"), "INSERT INTO ha_test (value) VALUES ('first')");
    for (const name of ["pg-1", "pg-2"]) await eventually(`row on ${name}`, () => rowVisible(node(name), "first"), 10_000);
    await assert.rejects(sql(node("pg-1"), "INSERT INTO ha_test (value) VALUES ('nope')"), /read-only transaction/);
  });

  it("probes lag in bytes and time on the primary and WAL positions on the standbys", async (t) => {
    const primary = node("pg-0");
    await sql(primary, "INSERT INTO ha_test (value) SELECT 'bulk-' || g FROM generate_series(1, 20000) g");
    const during = await status(primary);
    assert.equal(during.role, "primary");
    for (const r of during.replicas) {
      assert.equal(typeof r.lagBytes, "number");
      assert.ok(r.lagBytes! >= 0);
      assert.equal(typeof r.flushLagBytes, "number");
    }
    // Once the standbys confirm the burst, the primary reports time lags too.
    await eventually("time lags reported", async () => {
      const s = await status(primary);
      return s.role === "primary" && s.replicas.length === 2 && s.replicas.every((r) => typeof r.replayLagMs === "number" && r.lagBytes === 0);
    });
    const settled = await status(primary);
    assert.equal(settled.role, "primary");
    for (const r of settled.replicas) t.diagnostic(`${r.name}: lagBytes ${r.lagBytes}, writeLag ${r.writeLagMs?.toFixed(2)} ms, flushLag ${r.flushLagMs?.toFixed(2)} ms, replayLag ${r.replayLagMs?.toFixed(2)} ms`);
    for (const slot of settled.slots) assert.equal(typeof slot.retainedBytes, "number");
    const standby = await status(node("pg-1"));
    assert.equal(standby.role, "standby");
    assert.equal(standby.receiveLsn, settled.currentLsn);
    assert.equal(standby.replayLagBytes, 0);
    assert.match(standby.replayTimestamp ?? "", /^\d{4}-\d\d-\d\dT/);
  });

  it("keeps both passwords out of every data directory, the replication one in a standby's 0600 passfile only", async () => {
    for (const name of ["pg-0", "pg-1", "pg-2"]) {
      const { dataDirectory, runDirectory } = node(name).context;
      for (const secret of [admin.password, replication.password]) assert.deepEqual((await filesContaining(dataDirectory, secret)).hits, []);
      assert.deepEqual((await filesContaining(runDirectory, admin.password)).hits, []);
      if (name === "pg-0") {
        assert.deepEqual((await filesContaining(runDirectory, replication.password)).hits, [], "the primary connects to nobody and keeps no passfile");
        continue;
      }
      assert.deepEqual((await filesContaining(runDirectory, replication.password)).hits, [join(runDirectory, "replication.pgpass")]);
      assert.equal((await stat(join(runDirectory, "replication.pgpass"))).mode & 0o777, 0o600);
    }
  });

  it("synchronous quorum: commits wait for a quorum member and go through once one runs", async (t) => {
    const primary = node("pg-0");
    const synchronous = planSynchronousReplication({ mode: "synchronous", quorum: 1 }, ["pg_1", "pg_2"]);
    await applyReplicationPlan(primary.context, plan(primary, undefined, synchronous), accounts, host);
    await eventually("quorum standbys", async () => {
      const s = await status(primary);
      return s.role === "primary" && s.synchronousStandbyNames === 'ANY 1 ("pg_1", "pg_2")' && s.replicas.filter((r) => r.syncState === "quorum").length === 2;
    });

    // One of two quorum members down: commits still go through.
    await stop(node("pg-1"));
    const oneDown = Date.now();
    await sql(primary, "INSERT INTO ha_test (value) VALUES ('one member down')");
    assert.ok(Date.now() - oneDown < 5000);

    // Both down: commits block (statement_timeout does not apply to the wait, which comes after the statement).
    await stop(node("pg-2"));
    const client = new pg.Client({ host: "127.0.0.1", port: primary.context.port, user: admin.username, password: admin.password, database: "postgres" });
    const notices: string[] = [];
    client.on("notice", (notice) => notices.push(notice.message ?? ""));
    await client.connect();
    try {
      const pid = (await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
      await client.query("SET statement_timeout = 1000");
      const blocked = client.query("INSERT INTO ha_test (value) VALUES ('cancelled wait')");
      const early = await Promise.race([blocked.then(() => "committed"), new Promise((resolve) => setTimeout(() => resolve("blocked"), 2000))]);
      assert.equal(early, "blocked", "the commit did not wait for a quorum member");
      const [waiting] = await sql<{ wait_event: string }>(primary, "SELECT wait_event FROM pg_stat_activity WHERE pid = $1", [pid]);
      assert.equal(waiting?.wait_event, "SyncRep");
      // Cancelling the wait returns, with PostgreSQL's warning that the commit is only local.
      await sql(primary, "SELECT pg_cancel_backend($1)", [pid]);
      await blocked;
      assert.ok(notices.some((m) => m.includes("canceling wait for synchronous replication")), notices.join("; "));

      const pending = client.query("INSERT INTO ha_test (value) VALUES ('waited for quorum')");
      const stillBlocked = await Promise.race([pending.then(() => "committed"), new Promise((resolve) => setTimeout(() => resolve("blocked"), 2000))]);
      assert.equal(stillBlocked, "blocked");
      const restarted = Date.now();
      await start(node("pg-2"));
      await pending;
      t.diagnostic(`blocked commit acknowledged ${Date.now() - restarted} ms after the standby was started`);
    } finally {
      await client.end();
    }
    assert.equal(await rowVisible(node("pg-2"), "waited for quorum"), true);
    await start(node("pg-1"));
    await eventually("pg-1 streaming again", () => streamingTo(primary, "pg_1"));

    // Back to asynchronous: nothing waits.
    await applyReplicationPlan(primary.context, plan(primary), accounts, host);
    await eventually("asynchronous again", async () => {
      const s = await status(primary);
      return s.role === "primary" && s.replicas.length === 2 && s.replicas.every((r) => r.syncState === "async");
    });
  });

  it("fails over: promotes the best standby, repoints the other, and the new primary takes writes", async (t) => {
    const [oldPrimary, a, b] = [node("pg-0"), node("pg-1"), node("pg-2")];
    await sql(oldPrimary, "INSERT INTO ha_test (value) VALUES ('before failover')");
    for (const n of [a, b]) await eventually("caught up", () => rowVisible(n, "before failover"), 10_000);

    // The primary crashes; fencing then finds no postmaster despite the stale postmaster.pid.
    oldPrimary.server?.signal("SIGKILL");
    await oldPrimary.server?.exited;
    oldPrimary.server = undefined;
    assert.equal(await isPostgresqlRunning(oldPrimary.context), false);
    assert.equal(await fencePostgresql(oldPrimary.context, host), "not-running");

    const observations: CandidateObservation[] = [];
    for (const [name, n] of [["pg-1", a], ["pg-2", b]] as const) {
      const s = await status(n);
      assert.equal(s.role, "standby");
      observations.push({ name, timeline: s.timeline, receiveLsn: s.receiveLsn, replayLsn: s.replayLsn });
    }
    const candidate = chooseFailoverCandidate(observations);
    assert.equal(candidate?.name, "pg-1", JSON.stringify(observations)); // both caught up: the tie goes by name
    const promoteStarted = performance.now();
    await promotePostgresql(a.context, admin, host);
    const promoteMs = performance.now() - promoteStarted;
    promoteTimings.push({ method: PROMOTE, ms: promoteMs });
    t.diagnostic(`${PROMOTE} took ${promoteMs.toFixed(0)} ms`);
    await promotePostgresql(a.context, admin, host); // repeating a finished promotion is harmless

    const promoted = await status(a);
    assert.equal(promoted.role, "primary");
    assert.equal(promoted.timeline, 2);
    await sql(a, "INSERT INTO ha_test (value) VALUES ('after failover')");

    await applyReplicationPlan(b.context, plan(b, a), accounts, host);
    await eventually("pg-2 follows pg-1", () => streamingTo(a, "pg_2"));
    await eventually("new row on pg-2", () => rowVisible(b, "after failover"), 10_000);
    const follower = await status(b);
    assert.equal(follower.role, "standby");
    assert.equal(follower.timeline, 2);
    assert.equal(follower.receiver?.senderPort, a.context.port);
    // A standby plan is never applied to a running primary.
    await assert.rejects(applyReplicationPlan(a.context, plan(a, b), accounts, host), /runs as a primary/);
  });

  it("rewinds the old primary, diverged by writes of its own, and it rejoins as a standby of the new one", async () => {
    const [oldPrimary, newPrimary] = [node("pg-0"), node("pg-1")];
    // Split brain the fencing is there to prevent: the old primary comes back on its own and takes a write.
    await start(oldPrimary);
    assert.equal(await engine.probeRole(oldPrimary.context.port, admin), "primary");
    await sql(oldPrimary, "INSERT INTO ha_test (value) VALUES ('diverged')");
    await assert.rejects(rejoinAsStandby(oldPrimary.context, plan(oldPrimary, newPrimary), accounts, host), /still running/);
    await stopPostgresql(oldPrimary.context, host, "immediate");
    await oldPrimary.server?.exited;
    oldPrimary.server = undefined;

    const result = await rejoinAsStandby(oldPrimary.context, plan(oldPrimary, newPrimary), accounts, host);
    assert.deepEqual(result, { method: "rewind" });
    await start(oldPrimary);
    assert.equal(await engine.probeRole(oldPrimary.context.port, admin), "secondary");
    await eventually("pg-0 streams from pg-1", () => streamingTo(newPrimary, "pg_0"));
    await sql(newPrimary, "INSERT INTO ha_test (value) VALUES ('after rejoin')");
    await eventually("new row on the rejoined primary", () => rowVisible(oldPrimary, "after rejoin"), 10_000);
    assert.equal(await rowVisible(oldPrimary, "diverged"), false, "the diverged write survived the rewind");
    assert.equal(await rowVisible(oldPrimary, "after failover"), true);
    const s = await status(oldPrimary);
    assert.equal(s.role, "standby");
    assert.equal(s.timeline, 2);
    assert.deepEqual((await filesContaining(oldPrimary.context.dataDirectory, replication.password)).hits, []);
  });

  it("measures promotion, rewinds a promoted standby, and re-clones one that cannot be rewound", async (t) => {
    const primary = node("pg-1");
    const trials: Node[] = [];
    const methods = [PROMOTE, PROMOTE, PROMOTE, PROMOTE, "pg_ctl promote -w", "pg_ctl promote -w", "pg_promote(true)", "pg_promote(true)", "pg_ctl promote -W, polled", "pg_ctl promote -W, polled"];
    for (const [i, method] of methods.entries()) {
      const n = await createStandby(`trial-${i}`, primary);
      const started = performance.now();
      await promoteBy(method, n);
      const ms = performance.now() - started;
      promoteTimings.push({ method, ms });
      assert.equal((await status(n)).role, "primary");
      assert.equal(await fencePostgresql(n.context, host), "fast");
      await n.server?.exited;
      n.server = undefined;
      assert.equal(await isPostgresqlRunning(n.context), false);
      trials.push(n);
    }
    const ctl = promoteTimings.filter((p) => p.method === PROMOTE).map((p) => p.ms);
    t.diagnostic(`${PROMOTE}: median ${median(ctl).toFixed(0)} ms over ${ctl.length} (${ctl.map((ms) => ms.toFixed(0)).join(", ")})`);

    // A promoted standby is on a timeline of its own: pg_rewind brings it back.
    const [rewound, broken] = [trials[0]!, trials[1]!];
    assert.equal(trials.length, methods.length);
    assert.deepEqual(await rejoinAsStandby(rewound.context, plan(rewound, primary), accounts, host), { method: "rewind" });
    // One whose control file is gone cannot be rewound: it is cloned afresh.
    await rm(join(broken.context.dataDirectory, "global", "pg_control"));
    const fallback = await rejoinAsStandby(broken.context, plan(broken, primary), accounts, host);
    assert.equal(fallback.method, "clone");
    assert.match(fallback.rewindError ?? "", /pg_rewind/);
    await assert.rejects(rejoinAsStandby(trials[2]!.context, { ...plan(trials[2]!, primary), upstream: undefined }, accounts, host), /planned as a primary/);

    for (const n of [rewound, broken]) await start(n);
    await sql(primary, "INSERT INTO ha_test (value) VALUES ('to the rejoined trials')");
    for (const n of [rewound, broken]) {
      await eventually(`${n.context.instanceName} streams`, () => streamingTo(primary, plan(n).name));
      await eventually("row arrives", () => rowVisible(n, "to the rejoined trials"), 10_000);
    }

    // Removing replicas: their slots go, and the primary keeps no WAL for them.
    for (const n of [rewound, broken]) await stop(n);
    for (const n of trials) assert.equal(await dropReplicationSlot(primary.context.port, admin, plan(n).name), "dropped");
    assert.equal(await dropReplicationSlot(primary.context.port, admin, "trial_0"), "absent");
    const remaining = await status(primary);
    assert.equal(remaining.role, "primary");
    assert.deepEqual(remaining.slots.map((slot) => slot.name), ["pg_0", "pg_2"]);
  });
});
