/**
 * A hot standby never left below its primary's max_connections (ADR 0041, since 2026-12-07), against real PostgreSQL
 * servers run as the service user: a standby configured lower than its primary starts on the primary's value (read
 * from its own pg_control) instead of refusing to start; a primary raised past it pauses its replay, which
 * settingsDrift reports, and a restart through configureRole resumes it; a primary lowered again leaves the raise
 * unneeded, and the next restart gives the standby its own value. Ports 19620-19621.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import pg from "pg";
import { createPostgresqlEngine, generatePassword, type Credentials, type EngineReplication, type EngineVersion, type InstanceContext } from "../../src/engines/index.ts";
import { REPLICATION_ACCOUNT, cloneStandby, configureReplication, ensureReplicationAccount, planReplication } from "../../src/engines/postgresql/index.ts";
import { createTestHostAccess, type TestHostAccess } from "../helpers/host-access.ts";
import { eventually, startNode, stopNode, type TestNode, removeTree, traversableTempDir } from "./harness.ts";

type Node = TestNode;

const engine = createPostgresqlEngine();
const PORTS = { primary: 19620, standby: 19621 };

describe("postgresql: a standby's hot-standby settings follow its primary's", { timeout: 300_000 }, () => {
  const admin: Credentials = { username: "postgres", password: generatePassword() };
  const credentials = { admin, replication: { username: REPLICATION_ACCOUNT.name, password: generatePassword() } };
  let host: TestHostAccess;
  let root: string;
  let version: EngineVersion;
  let replication: EngineReplication;
  const nodes: Node[] = [];

  function addNode(name: string, port: number, maxConnections: string): Node {
    const rootDirectory = join(root, name);
    const context: InstanceContext = { instanceName: name, rootDirectory, dataDirectory: join(rootDirectory, "data"), runDirectory: join(rootDirectory, "run"), port, version, parameters: { max_connections: maxConnections }, role: "primary" };
    const node = { context, server: undefined };
    nodes.push(node);
    return node;
  }

  const start = (n: Node): Promise<void> => startNode(engine, n, admin, host);
  const stop = (n: Node): Promise<void> => stopNode(engine, n);

  async function sql(n: Node, text: string): Promise<string> {
    const client = new pg.Client({ host: "127.0.0.1", port: n.context.port, user: admin.username, password: admin.password, database: "postgres", query_timeout: 30_000 });
    await client.connect();
    try {
      const row = (await client.query<{ v: unknown }>(`SELECT (${text})::text AS v`)).rows[0];
      return String(row?.v);
    } finally {
      await client.end();
    }
  }

  /** The primary restarted with `maxConnections` (its start writes a parameter-change record the standby replays). */
  async function restartPrimary(primary: Node, maxConnections: string): Promise<void> {
    await stop(primary);
    primary.context = { ...primary.context, parameters: { max_connections: maxConnections } };
    await engine.configure(primary.context, [admin], host);
    await start(primary);
  }

  /** The standby restarted as the node agent does: its role configured (hot-standby values included), then started. */
  async function restartStandby(standby: Node, primary: Node): Promise<void> {
    await stop(standby);
    await replication.configureRole(standby.context, { role: "secondary", upstream: { host: "127.0.0.1", port: primary.context.port } }, credentials, host);
    await start(standby);
  }

  before(async () => {
    host = await createTestHostAccess();
    root = await traversableTempDir("standby-params-hs-");
    const found = engine.matchVersion(undefined, await engine.detectVersions());
    if (found === undefined) throw new Error("postgresql is not installed: run npm run engines:install");
    version = found;
    assert.ok(engine.replication !== undefined);
    replication = engine.replication;
  });

  after(async () => {
    for (const n of nodes) n.server?.signal("SIGKILL");
    await Promise.all(nodes.flatMap((n) => (n.server === undefined ? [] : [n.server.exited])));
    await removeTree(root);
  });

  it("a standby configured below its primary starts on the primary's value, raised in holdfast-hot-standby.conf, and streams", async () => {
    const primary = addNode("pg-0", PORTS.primary, "60");
    await engine.initialize(primary.context, [admin], host);
    await engine.configure(primary.context, [admin], host);
    await configureReplication(primary.context, planReplication({ instanceName: "pg-0", runDirectory: primary.context.runDirectory }), credentials.replication, host);
    await start(primary);
    await ensureReplicationAccount(primary.context.port, admin, credentials.replication);

    const standby = addNode("pg-1", PORTS.standby, "40");
    const upstream = { host: "127.0.0.1", port: primary.context.port };
    await cloneStandby(standby.context, planReplication({ instanceName: "pg-1", runDirectory: standby.context.runDirectory, upstream }), credentials, host);
    await replication.configureRole(standby.context, { role: "secondary", upstream }, credentials, host);
    await start(standby);
    assert.equal(await sql(standby, "current_setting('max_connections')"), "60");
    assert.match(await readFile(join(standby.context.dataDirectory, "holdfast-hot-standby.conf"), "utf8"), /^max_connections = '60' {2}# own value 40/m);
    await eventually("the standby streams", async () => (await sql(primary, "(SELECT string_agg(state, ',') FROM pg_stat_replication)")) === "streaming");
    assert.equal(await replication.settingsDrift?.(standby.context, admin, host), undefined);
  });

  it("a primary raised past the standby pauses its replay; settingsDrift says so, and a restart resumes it on the primary's value", async () => {
    const [primary, standby] = nodes as [Node, Node];
    await restartPrimary(primary, "80");
    await eventually("the standby's replay paused", async () => (await sql(standby, "pg_is_wal_replay_paused()")) === "true");
    const drift = await replication.settingsDrift?.(standby.context, admin, host);
    assert.equal(drift?.urgent, true);
    assert.match(drift.message, /max_connections 60 \(primary 80\)\), recovery paused/);
    await restartStandby(standby, primary);
    assert.equal(await sql(standby, "current_setting('max_connections')"), "80");
    await sql(primary, "pg_catalog.txid_current()");
    await eventually("the standby streams and replays", async () => (await sql(primary, "(SELECT string_agg(state, ',') FROM pg_stat_replication)")) === "streaming" && (await sql(standby, "pg_is_wal_replay_paused()")) === "false");
    assert.equal(await replication.settingsDrift?.(standby.context, admin, host), undefined);
  });

  it("a primary lowered below the standby's own value leaves the raise unneeded: the next restart gives the standby its own", async () => {
    const [primary, standby] = nodes as [Node, Node];
    await restartPrimary(primary, "30");
    let message = "";
    await eventually("the raise reported unneeded", async () => {
      const found = await replication.settingsDrift?.(standby.context, admin, host);
      message = found?.message ?? "";
      return found?.urgent === false;
    });
    assert.match(message, /max_connections 80 \(own 40, primary 30\)/);
    await restartStandby(standby, primary);
    assert.equal(await sql(standby, "current_setting('max_connections')"), "40");
    assert.doesNotMatch(await readFile(join(standby.context.dataDirectory, "holdfast-hot-standby.conf"), "utf8"), /^max_connections/m);
    assert.equal(await replication.settingsDrift?.(standby.context, admin, host), undefined);
  });

  it("a standby started as primary keeps no raised values", async () => {
    const [primary] = nodes as [Node, Node];
    await stop(primary);
    await replication.configureRole(primary.context, { role: "primary" }, credentials, host);
    await start(primary);
    assert.equal(await sql(primary, "current_setting('max_connections')"), "30");
    await assert.rejects(readFile(join(primary.context.dataDirectory, "holdfast-hot-standby.conf"), "utf8"), /ENOENT/);
  });
});
