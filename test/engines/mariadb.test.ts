/** The MariaDB engine against a real mariadbd and mariadb client: initialise, start, probe, connect, stop. */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createMariadbEngine, generatePassword, type Credentials, type InstanceContext } from "../../src/engines/index.ts";
import { createTestHostAccess, type TestHostAccess } from "../helpers/host-access.ts";
import { assertStopsCleanly, filesContaining, instanceContext, removeTree, runClient, type ServerProcess, startAsPrimary, traversableTempDir } from "./harness.ts";

const engine = createMariadbEngine();
const installed = await engine.detectVersions();
const skip = installed.length === 0 ? "mariadbd is not installed (Debian: apt-get install -y mariadb-server mariadb-client mariadb-backup)" : false;
if (skip !== false) console.log(`# skipped: ${skip}`);

/** The port this test's server uses (the range given to the MariaDB tests). */
const PORT = 19171;

describe("mariadb engine", { timeout: 240_000, skip }, () => {
  const admin: Credentials = { username: "root", password: generatePassword() };
  let host: TestHostAccess;
  let root: string;
  let context: InstanceContext;
  let server: ServerProcess | undefined;

  before(async () => {
    host = await createTestHostAccess();
    root = await traversableTempDir("holdfast-mariadb-");
    context = { ...(await instanceContext(engine, root, engine.parametersFor({ limits: { memory: "512Mi" } }))), port: PORT };
  });

  after(async () => {
    // Whatever failed, no mariadbd outlives the test.
    server?.signal("SIGKILL");
    await server?.exited;
    await removeTree(root);
  });

  it("initialises with mariadb-install-db and the accounts, my.cnf private", async () => {
    assert.equal(await engine.isInitialized(context), false);
    await engine.initialize(context, [admin], host);
    await engine.configure(context, [admin], host);
    assert.equal(await engine.isInitialized(context), true);
    assert.equal((await stat(join(context.runDirectory, "my.cnf"))).mode & 0o777, 0o600);
  });

  it("starts as the service user, then reports ready and primary", async () => {
    server = await startAsPrimary(engine, context, admin, host, 60_000);
  });

  it("lets the real mariadb client in, with the buffer pool sized from the memory limit", async () => {
    const pool = await runClient(engine, context.port, admin, ["-N", "-B", "-e", "SELECT @@innodb_buffer_pool_size, CURRENT_USER()"], { scratch: root });
    assert.equal(pool.code, 0, pool.output);
    assert.equal(pool.output.trim(), `${256 * 1024 * 1024}\troot@%`);
  });

  it("has no anonymous, passwordless or socket-authenticated account, and no test database", async () => {
    const accounts = await runClient(engine, context.port, admin, ["-N", "-B", "-e", "SELECT CONCAT(User, '@', Host, ':', JSON_VALUE(Priv, '$.plugin')) FROM mysql.global_priv ORDER BY User"], { scratch: root });
    assert.equal(accounts.code, 0, accounts.output);
    assert.deepEqual(accounts.output.trim().split("\n"), ["mariadb.sys@localhost:mysql_native_password", "root@%:ed25519"]);
    const locked = await runClient(engine, context.port, admin, ["-N", "-B", "-e", "SELECT JSON_VALUE(Priv, '$.account_locked') FROM mysql.global_priv WHERE User = 'mariadb.sys'"], { scratch: root });
    assert.equal(locked.output.trim(), "1", "mariadb.sys cannot log in");
    const databases = await runClient(engine, context.port, admin, ["-N", "-B", "-e", "SHOW DATABASES LIKE 'test'"], { scratch: root });
    assert.equal(databases.output.trim(), "");
  });

  it("refuses a wrong password and no password", async () => {
    const wrong = { username: "root", password: generatePassword() };
    const withWrong = await runClient(engine, context.port, wrong, ["-e", "SELECT 1"], { scratch: root });
    assert.notEqual(withWrong.code, 0);
    assert.match(withWrong.output, /Access denied/);
    const withNone = await runClient(engine, context.port, admin, ["--user=root", "-e", "SELECT 1"], { scratch: root, withCredentials: false });
    assert.notEqual(withNone.code, 0);
    assert.match(withNone.output, /Access denied/);
    const anonymous = await runClient(engine, context.port, admin, ["-e", "SELECT 1"], { scratch: root, withCredentials: false });
    assert.match(anonymous.output, /Access denied/);
    assert.equal(await engine.probeReady(context.port, wrong), false);
    assert.equal(await engine.probeRole(context.port, wrong), undefined);
  });

  it("refuses LOAD DATA LOCAL and files outside its own directory", async () => {
    const outfile = await runClient(engine, context.port, admin, ["-e", "SELECT 1 INTO OUTFILE '/tmp/holdfast-mariadb-outfile'"], { scratch: root });
    assert.match(outfile.output, /secure-file-priv/);
  });

  it("stops on the engine's signal within its timeout, and is then unreachable", async () => {
    await assertStopsCleanly(server, engine, context.port, admin);
  });

  it("leaves the password in no file of the instance", async () => {
    const instance = await filesContaining(context.rootDirectory, admin.password);
    assert.ok(instance.scanned >= 10, `only ${instance.scanned} files scanned`);
    assert.deepEqual(instance.hits, []);
    // The scan itself works: a planted copy is found.
    const planted = join(context.runDirectory, "planted");
    await writeFile(planted, `x${admin.password}y`, { mode: 0o600 });
    assert.deepEqual((await filesContaining(context.rootDirectory, admin.password)).hits, [planted]);
  });
});
