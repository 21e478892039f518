/**
 * The mariabackup method against real servers: a backup of a running mariadbd streamed into memory, restored into a
 * new data directory with new passwords; the restored server has the same CHECKSUM TABLE and the new password only.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { PassThrough, type Readable } from "node:stream";
import { createMariadbEngine, generatePassword, type BackupSink, type BackupSource, type Credentials, type InstanceContext } from "../../src/engines/index.ts";
import { createTestHostAccess, type TestHostAccess } from "../helpers/host-access.ts";
import { instanceContext, removeTree, runClient, type ServerProcess, startAsPrimary, traversableTempDir } from "./harness.ts";

const engine = createMariadbEngine();
const installed = await engine.detectVersions();
const skip = installed.length === 0 ? "mariadbd is not installed (Debian: apt-get install -y mariadb-server mariadb-client mariadb-backup)" : false;
if (skip !== false) console.log(`# skipped: ${skip}`);

/** The ports of this test (the range given to the MariaDB backup tests). */
const SOURCE_PORT = 19420;
const RESTORED_PORT = 19421;

/** A sink keeping each stream in memory, and a source reading them back. */
function memoryStreams(): { sink: BackupSink; source: BackupSource; sizes: () => Record<string, number> } {
  const streams = new Map<string, Buffer>();
  const sink: BackupSink = {
    async writeStream(name: string, source: Readable) {
      const chunks: Buffer[] = [];
      for await (const chunk of source) chunks.push(Buffer.from(chunk as Uint8Array));
      streams.set(name, Buffer.concat(chunks));
    },
  };
  const source: BackupSource = {
    openStream(name: string) {
      const stream = new PassThrough();
      stream.end(streams.get(name) ?? Buffer.alloc(0));
      return stream;
    },
  };
  return { sink, source, sizes: () => Object.fromEntries([...streams].map(([name, bytes]) => [name, bytes.length])) };
}

describe("mariadb mariabackup method", { timeout: 300_000, skip }, () => {
  const admin: Credentials = { username: "root", password: generatePassword() };
  const newAdmin: Credentials = { username: "root", password: generatePassword() };
  let host: TestHostAccess;
  let root: string;
  let otherRoot: string;
  let source: InstanceContext;
  let restored: InstanceContext;
  const servers: ServerProcess[] = [];

  before(async () => {
    host = await createTestHostAccess();
    root = await traversableTempDir("mariabackup-engine-");
    const parameters = engine.parametersFor({ limits: { memory: "512Mi" } });
    otherRoot = await traversableTempDir("mariabackup-engine-");
    source = { ...(await instanceContext(engine, root, parameters)), instanceName: "src-mariadb-0", port: SOURCE_PORT };
    restored = { ...(await instanceContext(engine, otherRoot, parameters)), instanceName: "dst-mariadb-0", port: RESTORED_PORT };
  });

  after(async () => {
    for (const server of servers) {
      server.signal("SIGKILL");
      await server.exited;
    }
    await removeTree(root);
    await removeTree(otherRoot);
  });

  const ask = async (port: number, account: Credentials, sql: string): Promise<string> => {
    const result = await runClient(engine, port, account, ["-N", "-B", "-e", sql], { scratch: root });
    assert.equal(result.code, 0, result.output);
    return result.output.trim();
  };

  it("backs up a running server and restores it into a new data directory with identical tables and the new password", async () => {
    await engine.initialize(source, [admin], host);
    await engine.configure(source, [admin], host);
    servers.push(await startAsPrimary(engine, source, admin, host, 60_000));
    await ask(SOURCE_PORT, admin, "CREATE DATABASE app; USE app; CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(64)) ENGINE=InnoDB; INSERT INTO app.t SELECT seq, MD5(seq) FROM seq_1_to_20000; CREATE TABLE app.a (id INT PRIMARY KEY) ENGINE=Aria; INSERT INTO app.a SELECT seq FROM seq_1_to_100");
    const sums = await ask(SOURCE_PORT, admin, "CHECKSUM TABLE app.t, app.a");
    const method = engine.backupMethods[0];
    assert.equal(method?.name, "mariabackup");
    const memory = memoryStreams();
    const scratchDirectory = `${root}/scratch`;
    await host.mkdir(scratchDirectory);
    await method.backup({ instance: source, account: admin, scratchDirectory, signal: new AbortController().signal }, memory.sink, host);
    console.log(`streams: ${JSON.stringify(memory.sizes())}`);
    await method.restore(restored, memory.source, [newAdmin], host);
    assert.equal(await engine.isInitialized(restored), true);
    await engine.configure(restored, [newAdmin], host);
    servers.push(await startAsPrimary(engine, restored, newAdmin, host, 60_000));
    assert.equal(await ask(RESTORED_PORT, newAdmin, "CHECKSUM TABLE app.t, app.a"), sums);
    assert.equal(await engine.probeReady(RESTORED_PORT, admin), false, "the source's password is not the restored one's");
  });
});
