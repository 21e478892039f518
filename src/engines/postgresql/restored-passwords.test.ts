import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { createHostAccess } from "../../runtime/index.ts";
import { markerPath } from "../marker.ts";
import type { BackupSource, HostAccess, InstanceContext } from "../types.ts";
import { HOLDFAST_CONF, renderPgHba } from "./config.ts";
import { allowPostgresqlPeers, configurePostgresql, isPostgresqlInitialized } from "./initialize.ts";
import { restoreBaseBackup } from "./restore-base.ts";
import { finishRestoredStart, markPasswordsPending, passwordsPending, passwordsPendingPath, renderSetupHba, renderSetupIdent } from "./restored-passwords.ts";

const ACCOUNTS = [{ username: "postgres", password: "new-secret" }];
const ADMIN = ACCOUNTS[0] ?? { username: "postgres", password: "" };

/** A data directory as a restore leaves it (initdb's postgresql.conf, PG_VERSION), in a temporary instance root. */
async function withInstance(body: (context: InstanceContext, host: HostAccess) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), "holdfast-restored-passwords-"));
  const context: InstanceContext = {
    instanceName: "pg-restored-0", rootDirectory: root, dataDirectory: join(root, "data"), runDirectory: join(root, "run"),
    // A port nothing listens on: a server that is not there.
    port: 1,
    version: { version: "15.18", major: "15", binDir: "/usr/lib/postgresql/15/bin" }, parameters: {}, role: "primary",
    address: "127.0.97.9", peerAddresses: ["127.0.97.9", "127.0.97.10"],
  };
  const host = createHostAccess({ name: userInfo().username, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 });
  try {
    await mkdir(context.dataDirectory, { recursive: true });
    await mkdir(context.runDirectory, { recursive: true });
    await writeFile(join(context.dataDirectory, "postgresql.conf"), "max_connections = 100\n");
    await writeFile(join(context.dataDirectory, "PG_VERSION"), "15\n");
    await body(context, host);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

const hba = (context: InstanceContext) => readFile(join(context.dataDirectory, "pg_hba.conf"), "utf8");
const conf = (context: InstanceContext) => readFile(join(context.dataDirectory, HOLDFAST_CONF), "utf8");

/** What a start configured while the passwords are pending must give the server: no TCP rule, a private socket. */
async function assertSetupStart(context: InstanceContext): Promise<void> {
  const rules = (await hba(context)).split("\n").filter((line) => line !== "" && !line.startsWith("#"));
  assert.deepEqual(rules, [`local   postgres  "postgres"  peer map=holdfast_setup`]);
  assert.ok((await conf(context)).includes(`unix_socket_directories = '${context.runDirectory}'`));
  assert.ok((await conf(context)).includes(`ident_file = '${join(context.runDirectory, "setup-ident.conf")}'`));
  assert.equal(await readFile(join(context.runDirectory, "setup-ident.conf"), "utf8"), renderSetupIdent(userInfo().username, "postgres"));
}

describe("a restored data directory's pending passwords", () => {
  it("the restore writes the pending file before the marker, and the setup rules with them", async () => {
    await withInstance(async (context, host) => {
      const written: string[] = [];
      const watched: HostAccess = { ...host, writeFile: async (path, content, mode) => { written.push(path); await host.writeFile(path, content, mode); } };
      const source: BackupSource = { openStream: () => { throw new Error("unpacked by unpackTar"); }, unpackTar: () => Promise.resolve() };
      await restoreBaseBackup(context, source, ACCOUNTS, watched);
      const pending = written.indexOf(passwordsPendingPath(context.dataDirectory));
      assert.ok(pending >= 0 && pending < written.indexOf(markerPath(context.dataDirectory)), written.join("\n"));
      assert.equal(written.at(-1), markerPath(context.dataDirectory));
      assert.equal(await isPostgresqlInitialized(context), true);
      await assertSetupStart(context);
    });
  });

  it("killed before the marker (unpacked, or pending written): not initialised, so the restore starts again from empty", async () => {
    await withInstance(async (context, host) => {
      assert.equal(await isPostgresqlInitialized(context), false);
      await markPasswordsPending(context, host);
      assert.equal(await isPostgresqlInitialized(context), false);
    });
  });

  it("killed after the marker, during the setup start, after the passwords or after the normal rules were written: the next start admits no TCP client", async () => {
    await withInstance(async (context, host) => {
      await markPasswordsPending(context, host);
      await host.writeFile(markerPath(context.dataDirectory), "initialized\n");
      // The worst of these: the setup wrote the normal rules, then the server and the node agent were killed before the reload.
      await writeFile(join(context.dataDirectory, "pg_hba.conf"), renderPgHba(context));
      await configurePostgresql(context, host);
      await assertSetupStart(context);
      // A peer placed meanwhile does not bring the normal rules back before the passwords are set.
      await allowPostgresqlPeers(context, ADMIN, host);
      await assertSetupStart(context);
    });
  });

  it("a server that cannot take the setup's session yet (recovering, gone): the setup fails and everything stays pending", async () => {
    await withInstance(async (context, host) => {
      await markPasswordsPending(context, host);
      await configurePostgresql(context, host);
      await assert.rejects(finishRestoredStart(context, ACCOUNTS, host));
      assert.equal(await passwordsPending(context), true);
      await assertSetupStart(context);
    });
  });

  it("once the file is removed (the setup's last step), a start is a normal one: TCP rules, no socket", async () => {
    await withInstance(async (context, host) => {
      await configurePostgresql(context, host);
      assert.equal(await hba(context), renderPgHba(context));
      assert.match(await conf(context), /^unix_socket_directories = ''$/m);
      assert.doesNotMatch(await conf(context), /ident_file/);
      // Nothing pending: nothing to do, no server asked (none listens on the port).
      await finishRestoredStart(context, ACCOUNTS, host);
    });
  });

  it("the setup's rules name one account on the socket and refuse names they cannot quote", () => {
    assert.doesNotMatch(renderSetupHba("postgres"), /^host/m);
    assert.throws(() => renderSetupHba('a"b'), /cannot be written in pg_hba\.conf/);
  });
});
