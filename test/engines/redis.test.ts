/** The Redis engine against a real redis-server and redis-cli: configure, start, probe, connect, stop. */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createRedisEngine, generatePassword, type Credentials, type InstanceContext } from "../../src/engines/index.ts";
import { createTestHostAccess, type TestHostAccess } from "../helpers/host-access.ts";
import { assertStopsCleanly, filesContaining, instanceContext, removeTree, runClient, type ServerProcess, startAsPrimary, traversableTempDir } from "./harness.ts";

describe("redis engine", { timeout: 120_000 }, () => {
  const engine = createRedisEngine();
  const admin: Credentials = { username: "default", password: generatePassword() };
  let host: TestHostAccess;
  let root: string;
  let context: InstanceContext;
  let server: ServerProcess | undefined;

  before(async () => {
    host = await createTestHostAccess();
    root = await traversableTempDir("holdfast-redis-");
    context = await instanceContext(engine, root, engine.parametersFor({ limits: { memory: "1Gi" } }));
  });

  after(async () => {
    // Whatever failed, no redis-server outlives the test.
    server?.signal("SIGKILL");
    await server?.exited;
    await removeTree(root);
  });

  it("initialises, writing the password only as its SHA-256", async () => {
    assert.equal(await engine.isInitialized(context), false);
    await engine.initialize(context, [admin], host);
    await engine.configure(context, [admin], host);
    assert.equal(await engine.isInitialized(context), true);
    const conf = await readFile(join(context.runDirectory, "redis.conf"), "utf8");
    assert.ok(conf.includes(createHash("sha256").update(admin.password).digest("hex")));
    assert.equal((await stat(join(context.runDirectory, "redis.conf"))).mode & 0o777, 0o600);
  });

  it("starts as the service user, then reports ready and primary", async () => {
    server = await startAsPrimary(engine, context, admin, host, 20_000);
  });

  it("lets the real redis-cli in, and applies maxmemory", async () => {
    const ping = await runClient(engine, context.port, admin, ["PING"], { scratch: root });
    assert.equal(ping.code, 0, ping.output);
    assert.equal(ping.output.trim(), "PONG");
    const maxmemory = await runClient(engine, context.port, admin, ["CONFIG", "GET", "maxmemory"], { scratch: root });
    assert.equal(maxmemory.output.trim().split("\n")[1], "858993459", maxmemory.output);
  });

  it("refuses a wrong password and no password", async () => {
    const wrong = { username: "default", password: generatePassword() };
    const withWrong = await runClient(engine, context.port, wrong, ["PING"], { scratch: root });
    assert.doesNotMatch(withWrong.output, /PONG/);
    assert.match(withWrong.output, /WRONGPASS|NOAUTH/);
    const withNone = await runClient(engine, context.port, admin, ["PING"], { scratch: root, withCredentials: false });
    assert.doesNotMatch(withNone.output, /PONG/);
    assert.match(withNone.output, /NOAUTH/);
    assert.equal(await engine.probeReady(context.port, wrong), false);
    assert.equal(await engine.probeRole(context.port, wrong), undefined);
  });

  it("refuses the hardened commands", async () => {
    const debug = await runClient(engine, context.port, admin, ["DEBUG", "SLEEP", "0"], { scratch: root });
    assert.match(debug.output, /not allowed|DEBUG command not allowed/i);
  });

  it("stops on the engine's signal within its timeout, and is then unreachable", async () => {
    await assertStopsCleanly(server, engine, context.port, admin);
  });

  it("leaves the password in no file of the instance", async () => {
    const instance = await filesContaining(context.rootDirectory, admin.password);
    assert.ok(instance.scanned >= 3, `only ${instance.scanned} files scanned`);
    assert.deepEqual(instance.hits, []);
    // The scan itself works: a planted copy is found.
    const planted = join(root, "planted");
    await writeFile(planted, `x${admin.password}y`, { mode: 0o600 });
    assert.deepEqual((await filesContaining(root, admin.password)).hits, [planted]);
  });
});
