/**
 * Custom OpsRequests with an OpsDefinition (issue 14, ADR 0054), with a real server on 127.0.86.1 and the engines'
 * own clients: on a 2-instance PostgreSQL cluster, `pg-terminate-backend` ends the psql session of a given user
 * (checked in pg_stat_activity), `checkpoint` runs on both instances and `vacuum-analyze` on the primary alone; on a
 * Redis standalone, `bgsave` moves LASTSAVE; a bad parameter is refused naming its field; an OpsDefinition naming an
 * action that is not on the engine's allow-list (or a shell command) is refused naming the field; on MariaDB,
 * `kill-query` stops a user's running statement and `analyze-table` runs on the primary.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import type { Instance, OpsRequest } from "../../src/api/index.ts";
import { createMariadbEngine } from "../../src/engines/index.ts";
import { clusterCaFile, connectionUri, installedPostgresMajor, psql, redisCli, redisConnection } from "../helpers/clients.ts";
import { mariadbOverTls } from "../helpers/mariadb-cli.ts";
import { join } from "node:path";
import { eventually, run, TestServer } from "../helpers/harness.ts";
import { exampleWith, postgresExample } from "../helpers/manifests.ts";

const NS = "demo";
const ADDRESS = "127.0.86.1";
const PG = "pg-custom";
const REDIS = "redis-custom";
const MARIADB = "mariadb-custom";
const APP_PASSWORD = "app-password-custom-ops";
const mariadbMissing = (await createMariadbEngine().detectVersions()).length === 0 ? "mariadbd is not installed" : false;

let server: TestServer;
let adminUri = "";
let session: ChildProcess | undefined;

before(async () => {
  const major = await installedPostgresMajor();
  server = await TestServer.start({ initArgs: ["--advertise", ADDRESS], serverArgs: ["--advertise", ADDRESS], listenHost: ADDRESS });
  await server.ok(["create", "namespace", NS]);
  await server.ok(["apply", "-f", "-"], await postgresExample(major, (doc) => {
    doc["metadata"].name = PG;
    doc["spec"].componentSpecs[0].replicas = 2;
  }));
  await server.ok(["apply", "-f", "-"], await exampleWith("redis/cluster-standalone.yaml", (doc) => (doc["metadata"].name = REDIS)));
  for (const name of [PG, REDIS]) await server.ok(["wait", `cluster/${name}`, "-n", NS, "--for=phase=Running", "--timeout=300s"]);
  await eventually("both PostgreSQL instances ready", async () => {
    const list = await server.api<{ items: Instance[] }>(`/apis/holdfast.io/v1alpha1/namespaces/${NS}/instances`);
    const pg = list.items.filter((i) => i.spec.clusterName === PG);
    return pg.length === 2 && pg.every((i) => i.status?.ready === true) ? true : undefined;
  }, 240_000);
  adminUri = await connectionUri(server, PG, NS);
});

after(async () => {
  session?.kill("SIGKILL");
  await server.destroy();
});

function definition(name: string, spec: Record<string, unknown>): string {
  return JSON.stringify({ apiVersion: "operations.kubeblocks.io/v1alpha1", kind: "OpsDefinition", metadata: { name }, spec });
}

function customOps(name: string, clusterName: string, opsDefinitionName: string, componentName: string, parameters: { name: string; value: string }[] = []): string {
  return JSON.stringify({ apiVersion: "operations.kubeblocks.io/v1alpha1", kind: "OpsRequest", metadata: { name, namespace: NS }, spec: { clusterName, type: "Custom", timeoutSeconds: 120, custom: { opsDefinitionName, items: [{ componentName, parameters }] } } });
}

async function finished(name: string): Promise<OpsRequest> {
  return eventually(`${name} finished`, async () => {
    const o = await server.api<OpsRequest>(`/apis/operations.kubeblocks.io/v1alpha1/namespaces/${NS}/opsrequests/${name}`);
    return ["Succeed", "Failed", "Cancelled"].includes(o.status?.phase ?? "") ? o : undefined;
  }, 180_000);
}

async function sql(text: string): Promise<string> {
  const result = await psql(adminUri, text);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.trim();
}

function appUri(): string {
  const url = new URL(adminUri);
  url.username = "app";
  url.password = APP_PASSWORD;
  return url.toString();
}

/** A psql session of user app that sleeps until it is ended; resolves with its exit code and stderr. */
function openAppSession(): Promise<{ code: number | null; stderr: string }> {
  session = spawn("psql", [appUri(), "-X", "-c", "SELECT pg_sleep(600)"], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  session.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => session?.on("exit", (code) => resolve({ code, stderr })));
}

describe("Custom OpsRequests", { timeout: 900_000 }, () => {
  test("OpsDefinitions naming allow-listed PostgreSQL and Redis actions are accepted", async () => {
    const sessions = {
      componentInfos: [{ componentDefinitionName: "postgresql" }],
      parametersSchema: { openAPIV3Schema: { type: "object", properties: { user: { type: "string", pattern: "^[a-z_][a-z0-9_]*$" }, pid: { type: "integer", minimum: 1 } } } },
      actions: [{ name: "end-sessions", parameters: ["user", "pid"], exec: { command: ["holdfast:pg-terminate-backend"] } }],
    };
    await server.ok(["apply", "-f", "-"], definition("pg-end-sessions", sessions));
    await server.ok(["apply", "-f", "-"], definition("pg-checkpoint", { componentInfos: [{ componentDefinitionName: "postgresql" }], actions: [{ name: "checkpoint", exec: { command: ["holdfast:checkpoint"] } }] }));
    await server.ok(["apply", "-f", "-"], definition("pg-vacuum", {
      componentInfos: [{ componentDefinitionName: "postgresql" }],
      parametersSchema: { openAPIV3Schema: { properties: { database: { type: "string", default: "postgres" }, table: { type: "string" } } } },
      actions: [{ name: "vacuum", parameters: ["database", "table"], exec: { command: ["holdfast:vacuum-analyze"] } }],
    }));
    await server.ok(["apply", "-f", "-"], definition("redis-bgsave", { componentInfos: [{ componentDefinitionName: "redis" }], actions: [{ name: "save", exec: { command: ["holdfast:bgsave"] } }] }));
    const listed = await server.ok(["get", "opsdefinitions"]);
    for (const name of ["pg-end-sessions", "pg-checkpoint", "pg-vacuum", "redis-bgsave"]) assert.ok(listed.includes(name), listed);
  });

  test("an OpsDefinition naming an action off the allow-list, a shell command or a KubeBlocks field outside the subset is refused naming the field", async () => {
    const info = [{ componentDefinitionName: "postgresql" }];
    const offList = await server.cli(["apply", "-f", "-"], definition("pg-drop", { componentInfos: info, actions: [{ name: "drop", exec: { command: ["holdfast:drop-database"] } }] }));
    assert.notEqual(offList.code, 0);
    assert.match(offList.stderr, /spec\.actions\[0\]\.exec\.command/);
    assert.match(offList.stderr, /holdfast:pg-terminate-backend, holdfast:pg-cancel-backend, holdfast:vacuum-analyze, holdfast:checkpoint, holdfast:reload/);
    const shell = await server.cli(["apply", "-f", "-"], definition("pg-shell", { componentInfos: info, actions: [{ name: "sh", exec: { command: ["/bin/sh", "-c", "id"] } }] }));
    assert.notEqual(shell.code, 0);
    assert.match(shell.stderr, /spec\.actions\[0\]\.exec\.command/);
    const workload = await server.cli(["apply", "-f", "-"], definition("pg-job", { componentInfos: info, actions: [{ name: "job", workload: { type: "Job", podSpec: {} }, exec: { command: ["holdfast:checkpoint"] } }] }));
    assert.notEqual(workload.code, 0);
    assert.match(workload.stderr, /spec\.actions\[0\]\.workload/);
    const got = await server.cli(["get", "opsdefinition", "pg-drop"]);
    assert.notEqual(got.code, 0, "nothing was stored");
  });

  test("pg-terminate-backend ends the psql session of user app (pg_stat_activity)", async () => {
    await sql(`CREATE ROLE app LOGIN PASSWORD '${APP_PASSWORD}'`);
    const ended = openAppSession();
    await eventually("app's session in pg_stat_activity", async () => ((await sql("SELECT count(*) FROM pg_stat_activity WHERE usename = 'app'")) === "1" ? true : undefined), 30_000);
    await server.ok(["apply", "-f", "-"], customOps("end-app", PG, "pg-end-sessions", "postgresql", [{ name: "user", value: "app" }]));
    const done = await finished("end-app");
    assert.equal(done.status?.phase, "Succeed", done.status?.message);
    assert.equal(done.status.progress, "2/2", "on both instances");
    const exit = await ended;
    assert.notEqual(exit.code, 0);
    assert.match(exit.stderr, /terminating connection due to administrator command/);
    assert.equal(await sql("SELECT count(*) FROM pg_stat_activity WHERE usename = 'app'"), "0");
    const messages = (done.status.progressDetails ?? []).map((d) => d.message ?? "").join(" | ");
    assert.match(messages, /1 session\(s\) of user app terminated/, messages);
    assert.match(await sql("SELECT count(*) FROM pg_stat_activity WHERE usename = 'postgres'"), /^[1-9]/, "Holdfast's own sessions are left alone");
  });

  test("checkpoint runs on every instance; vacuum-analyze on the primary alone", async () => {
    const before = Number(await sql("SELECT checkpoints_req FROM pg_stat_bgwriter").catch(() => "0"));
    await server.ok(["apply", "-f", "-"], customOps("checkpoint", PG, "pg-checkpoint", "postgresql"));
    const done = await finished("checkpoint");
    assert.equal(done.status?.phase, "Succeed", done.status?.message);
    assert.equal(done.status.progress, "2/2");
    assert.ok(done.status.progressDetails?.every((d) => d.status === "Succeed" && /CHECKPOINT done/.test(d.message ?? "")), JSON.stringify(done.status.progressDetails));
    if (Number.isFinite(before) && before > 0) assert.ok(Number(await sql("SELECT checkpoints_req FROM pg_stat_bgwriter")) > before);
    await sql("CREATE TABLE orders (id int)");
    await server.ok(["apply", "-f", "-"], customOps("vacuum", PG, "pg-vacuum", "postgresql", [{ name: "table", value: "orders" }]));
    const vacuumed = await finished("vacuum");
    assert.equal(vacuumed.status?.phase, "Succeed", vacuumed.status?.message);
    assert.equal(vacuumed.status.progress, "1/1", "the primary alone");
    await eventually("orders vacuumed and analyzed (pg_stat_user_tables)", async () => ((await sql("SELECT last_vacuum IS NOT NULL AND last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'orders'")) === "t" ? true : undefined), 30_000);
    const events = await server.api<{ items: { reason?: string; message?: string; involvedObject?: { kind?: string } }[] }>(`/api/v1/namespaces/${NS}/events`);
    assert.ok(events.items.some((e) => e.reason === "CustomActionSucceeded" && e.involvedObject?.kind === "Cluster" && /demo\/checkpoint/.test(e.message ?? "")), "an event on the cluster");
  });

  test("an engine error fails the request naming the instance and the engine's message", async () => {
    await server.ok(["apply", "-f", "-"], customOps("vacuum-missing", PG, "pg-vacuum", "postgresql", [{ name: "table", value: "no_such_table" }]));
    const failed = await finished("vacuum-missing");
    assert.equal(failed.status?.phase, "Failed");
    assert.match(failed.status.message ?? "", /Instance\/pg-custom-postgresql-\d: vacuum-analyze: failed: .*relation "no_such_table" does not exist/);
    assert.ok(!(failed.status.message ?? "").includes("password"));
  });

  test("a bad parameter, an unknown parameter and a session of Holdfast's own account are refused naming the field", async () => {
    const notInteger = await server.cli(["apply", "-f", "-"], customOps("bad-pid", PG, "pg-end-sessions", "postgresql", [{ name: "pid", value: "1; DROP TABLE orders" }]));
    assert.notEqual(notInteger.code, 0);
    assert.match(notInteger.stderr, /spec\.custom\.items\[0\]\.parameters\[0\]\.value/);
    assert.match(notInteger.stderr, /is not an integer/);
    const injected = await server.cli(["apply", "-f", "-"], customOps("bad-user", PG, "pg-end-sessions", "postgresql", [{ name: "user", value: "x'; DROP TABLE orders; --" }]));
    assert.notEqual(injected.code, 0);
    assert.match(injected.stderr, /spec\.custom\.items\[0\]\.parameters\[0\]\.value.*does not match the pattern/);
    const unknown = await server.cli(["apply", "-f", "-"], customOps("bad-name", PG, "pg-end-sessions", "postgresql", [{ name: "table", value: "orders" }]));
    assert.match(unknown.stderr, /spec\.custom\.items\[0\]\.parameters\[0\]\.name/);
    const own = await server.cli(["apply", "-f", "-"], customOps("bad-own", PG, "pg-end-sessions", "postgresql", [{ name: "user", value: "postgres" }]));
    assert.match(own.stderr, /system account/);
    const wrongEngine = await server.cli(["apply", "-f", "-"], customOps("bad-engine", REDIS, "pg-checkpoint", "redis"));
    assert.match(wrongEngine.stderr, /spec\.custom\.items\[0\]\.componentName/);
    assert.equal(await sql("SELECT count(*) FROM orders"), "0", "the table is still there");
  });

  test("an editor reads OpsDefinitions and runs a Custom OpsRequest, but cannot write an OpsDefinition", async () => {
    await server.ok(["user", "create", "editor", "-o", "json"]);
    await server.ok(["apply", "-f", "-"], JSON.stringify({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "editor-edit" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "edit" },
      subjects: [{ kind: "User", apiGroup: "rbac.authorization.k8s.io", name: "editor" }],
    }));
    const { token } = JSON.parse(await server.ok(["token", "create", "--name", "e2e", "--expires", "1h", "--user", "editor", "-o", "json"])) as { token: string };
    const asEditor = (args: string[], input?: string) => run(join(import.meta.dirname, "..", "..", "bin", "holdfast"), args, { env: { ...process.env, HOLDFAST_HOME: server.home, HOLDFAST_SERVER: server.url, HOLDFAST_TOKEN: token }, ...(input === undefined ? {} : { input }) });
    const listed = await asEditor(["get", "opsdefinitions"]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.ok(listed.stdout.includes("pg-checkpoint"));
    const write = await asEditor(["apply", "-f", "-"], definition("editor-def", { componentInfos: [{ componentDefinitionName: "postgresql" }], actions: [{ name: "c", exec: { command: ["holdfast:checkpoint"] } }] }));
    assert.notEqual(write.code, 0);
    assert.match(write.stderr, /forbidden|Forbidden/);
    const ran = await asEditor(["apply", "-f", "-"], customOps("editor-checkpoint", PG, "pg-checkpoint", "postgresql"));
    assert.equal(ran.code, 0, ran.stderr);
    const done = await finished("editor-checkpoint");
    assert.equal(done.status?.phase, "Succeed", done.status?.message);
  });

  test("bgsave on Redis moves LASTSAVE", async () => {
    const redis = await redisConnection(server, REDIS, NS);
    const lastSave = async (): Promise<number> => {
      const result = await redisCli(redis, "LASTSAVE");
      assert.equal(result.code, 0, result.stderr);
      return Number(result.stdout.trim());
    };
    const before = await lastSave();
    // LASTSAVE counts seconds: let one pass, so a new save shows.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await server.ok(["apply", "-f", "-"], customOps("bgsave", REDIS, "redis-bgsave", "redis"));
    const done = await finished("bgsave");
    assert.equal(done.status?.phase, "Succeed", done.status?.message);
    assert.equal(done.status.progress, "1/1");
    await eventually("LASTSAVE moved", async () => ((await lastSave()) > before ? true : undefined), 30_000);
  });
});

describe("Custom OpsRequests on MariaDB", { skip: mariadbMissing, timeout: 600_000 }, () => {
  let admin: URL;
  const sql = async (text: string, as: URL = admin): Promise<string> => {
    const result = await mariadbOverTls(as, clusterCaFile(server), text);
    assert.equal(result.code, 0, result.stderr);
    return result.stdout.trim();
  };

  before(async () => {
    await server.ok(["apply", "-f", "-"], await exampleWith("mariadb/cluster.yaml", (doc) => (doc["metadata"].name = MARIADB)));
    await server.ok(["wait", `cluster/${MARIADB}`, "-n", NS, "--for=phase=Running", "--timeout=300s"]);
    admin = new URL(await connectionUri(server, MARIADB, NS));
    await server.ok(["apply", "-f", "-"], definition("mariadb-kill-query", {
      componentInfos: [{ componentDefinitionName: "mariadb" }],
      parametersSchema: { openAPIV3Schema: { properties: { user: { type: "string" } }, required: ["user"] } },
      actions: [{ name: "kill", parameters: ["user"], exec: { command: ["holdfast:kill-query"] } }],
    }));
    await server.ok(["apply", "-f", "-"], definition("mariadb-analyze", {
      componentInfos: [{ componentDefinitionName: "mariadb" }],
      parametersSchema: { openAPIV3Schema: { properties: { database: { type: "string" }, table: { type: "string" } }, required: ["database", "table"] } },
      actions: [{ name: "analyze", parameters: ["database", "table"], exec: { command: ["holdfast:analyze-table"] } }, { name: "flush", exec: { command: ["holdfast:flush-logs"] } }],
    }));
  });

  test("kill-query stops the running statement of user app: its client gets MariaDB's 'interrupted' at once", async () => {
    await sql(`CREATE USER 'app'@'%' IDENTIFIED BY '${APP_PASSWORD}'`);
    const app = new URL(admin.toString());
    app.username = "app";
    app.password = APP_PASSWORD;
    const started = Date.now();
    const sleeping = mariadbOverTls(app, clusterCaFile(server), "SELECT SLEEP(100)");
    await eventually("app's statement in the process list", async () => ((await sql("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = 'app' AND INFO LIKE 'SELECT SLEEP%'")) === "1" ? true : undefined), 30_000);
    await server.ok(["apply", "-f", "-"], customOps("kill-app", MARIADB, "mariadb-kill-query", "mariadb", [{ name: "user", value: "app" }]));
    const done = await finished("kill-app");
    assert.equal(done.status?.phase, "Succeed", done.status?.message);
    const result = await sleeping;
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /ERROR 1317 .*Query execution was interrupted/);
    assert.ok(Date.now() - started < 90_000, "ended long before its 100 s");
    assert.match((done.status.progressDetails ?? []).map((d) => d.message ?? "").join(" "), /the queries of 1 connection\(s\) of user app killed/);
  });

  test("analyze-table then flush-logs: both steps' outcomes are reported", async () => {
    await sql("CREATE DATABASE shop; CREATE TABLE shop.orders (id INT PRIMARY KEY)");
    await server.ok(["apply", "-f", "-"], customOps("analyze", MARIADB, "mariadb-analyze", "mariadb", [{ name: "database", value: "shop" }, { name: "table", value: "orders" }]));
    const done = await finished("analyze");
    assert.equal(done.status?.phase, "Succeed", done.status?.message);
    assert.equal(done.status.progress, "1/1");
    const message = (done.status.progressDetails ?? []).map((d) => d.message ?? "").join(" ");
    assert.match(message, /analyze-table: ANALYZE TABLE shop\.orders: .*OK/);
    assert.match(message, /flush-logs: FLUSH LOCAL LOGS done/);
    const missing = await server.cli(["apply", "-f", "-"], customOps("analyze-missing", MARIADB, "mariadb-analyze", "mariadb", [{ name: "database", value: "shop" }]));
    assert.match(missing.stderr, /spec\.custom\.items\[0\]\.parameters: .*parameter table is required/);
  });
});
