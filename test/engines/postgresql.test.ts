/** The PostgreSQL engine against a real postgres, psql and pg: init, configure, start, probe, connect, stop. */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdir, readFile, stat } from "node:fs/promises";
import { createPostgresqlEngine, generatePassword, type Credentials, type InstanceContext } from "../../src/engines/index.ts";
import { createTestHostAccess, type TestHostAccess } from "../helpers/host-access.ts";
import { assertStopsCleanly, filesContaining, instanceContext, removeTree, runClient, ServerProcess, traversableTempDir, waitUntil } from "./harness.ts";

describe("postgresql engine", { timeout: 180_000 }, () => {
  const engine = createPostgresqlEngine();
  const admin: Credentials = { username: "postgres", password: generatePassword() };
  let host: TestHostAccess;
  let root: string;
  let scratch: string;
  let context: InstanceContext;
  let server: ServerProcess | undefined;

  before(async () => {
    host = await createTestHostAccess();
    root = await traversableTempDir("holdfast-pg-");
    scratch = await traversableTempDir("holdfast-pg-client-");
    context = await instanceContext(engine, root, engine.parametersFor({ limits: { memory: "0.5Gi" } }));
  });

  after(async () => {
    // Whatever failed, no postgres outlives the test.
    server?.signal("SIGKILL");
    await server?.exited;
    await removeTree(root);
    await removeTree(scratch);
  });

  it("initialises a data directory, leaving no password file behind", async () => {
    assert.equal(await engine.isInitialized(context), false);
    await engine.initialize(context, [admin], host);
    assert.equal(await engine.isInitialized(context), true);
    assert.deepEqual((await readdir(context.runDirectory)).filter((name) => name.includes("initdb")), []);
  });

  it("configures and starts as the service user, then reports ready and primary", async () => {
    await engine.configure(context, [admin], host);
    server = new ServerProcess(host.spawnServer(engine.startCommand(context), context.runDirectory));
    await waitUntil(() => engine.probeReady(context.port, admin), server, 30_000);
    assert.equal(await engine.probeRole(context.port, admin), "primary");
    const pidFile = await readFile(engine.pidFile(context), "utf8");
    assert.equal(Number(pidFile.split("\n")[0]), server.child.pid);
    if (host.identity) assert.equal((await stat(context.dataDirectory)).uid, host.identity.uid);
  });

  it("applies the parameters derived from resources", async () => {
    const result = await runClient(engine, context.port, admin, ["-X", "-A", "-t", "-w", "-c", "show shared_buffers"], { scratch });
    assert.equal(result.output.trim(), "128MB", result.output);
  });

  it("lets the real psql in with the password file", async () => {
    const result = await runClient(engine, context.port, admin, ["-X", "-A", "-t", "-w", "-c", "select 1"], { scratch });
    assert.equal(result.code, 0, result.output);
    assert.equal(result.output.trim(), "1");
  });

  it("stores only a SCRAM verifier for the superuser", async () => {
    const result = await runClient(engine, context.port, admin, ["-X", "-A", "-t", "-w", "-c", "select rolpassword from pg_authid where rolname = 'postgres'"], { scratch });
    assert.match(result.output.trim(), /^SCRAM-SHA-256\$4096:/);
  });

  it("refuses a wrong password and no password", async () => {
    const wrong = { username: "postgres", password: generatePassword() };
    const withWrong = await runClient(engine, context.port, wrong, ["-X", "-w", "-c", "select 1"], { scratch });
    assert.notEqual(withWrong.code, 0);
    assert.match(withWrong.output, /password authentication failed/);
    const withNone = await runClient(engine, context.port, admin, ["-X", "-w", "-c", "select 1"], { scratch, withCredentials: false });
    assert.notEqual(withNone.code, 0);
    assert.match(withNone.output, /no password supplied|password authentication failed/);
    assert.equal(await engine.probeReady(context.port, wrong), false);
    assert.equal(await engine.probeRole(context.port, wrong), undefined);
  });

  it("stops on the engine's signal within its timeout, and is then unreachable", async () => {
    await assertStopsCleanly(server, engine, context.port, admin);
  });

  it("leaves the password in no file of the instance", async () => {
    const instance = await filesContaining(context.rootDirectory, admin.password);
    assert.ok(instance.scanned > 100, `only ${instance.scanned} files scanned`);
    assert.deepEqual(instance.hits, []);
    // The scan itself works: the client's pgpass files in the scratch directory do hold it.
    assert.ok((await filesContaining(scratch, admin.password)).hits.length > 0);
  });
});
