/**
 * Continuous archiving through the node agent, with the backup controller, against a real store, real instance
 * directories and a real local repository: the controller hands a continuous Backup to the primary's agent, which
 * turns handing over on for the component's instances on its node (not another node's) and reports the moment; the
 * Backup is Running from it. Files a server leaves in its spool go into the archive and the controller reports the
 * covered range. A server that cannot archive fails the Backup with the agent's reason. Deleting the Backup turns
 * handing over off before the archive is deleted. The engine is a stand-in with PostgreSQL's spool layout: the
 * real archive-wal runs in test/e2e/backup-pitr.test.ts.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdir, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Backup, Instance, Resource } from "../api/index.ts";
import { BackupReconciler } from "../controllers/backup/index.ts";
import { listArchivedLogFiles, logArchivePrefix } from "../dataprotection/index.ts";
import type { ContinuousArchiving, InstanceLayout } from "../engines/index.ts";
import { backupFixture, NS, POLICY, seedComponent, type BackupFixture } from "./backup-test-fixtures.ts";
import { instanceLayout } from "./layout.ts";
import { WalArchiver } from "./wal-archiver.ts";

describe("continuous archiving by the node agent", () => {
  let fixture: BackupFixture;
  let store: BackupFixture["store"];
  let archiver: WalArchiver;
  let controller: BackupReconciler;
  /** What the stand-in server says of its archiving (undefined: it archives). */
  let serverProblem: string | undefined;

  const continuous: ContinuousArchiving = {
    baseMethods: ["dump"],
    spoolDirectory: (layout: InstanceLayout) => join(layout.rootDirectory, "wal-spool"),
    flagFile: (layout: InstanceLayout) => join(layout.rootDirectory, "wal-spool", "ARCHIVING"),
    isLogFile: (name: string) => /^[0-9A-F]{24}$/.test(name),
    compare: (a: string, b: string) => a.localeCompare(b),
    keepAlways: () => false,
    problem: () => Promise.resolve(serverProblem),
    restoreToTime: () => Promise.reject(new Error("not restored here")),
  };

  before(async () => {
    fixture = await backupFixture([{ name: "archive-wal", targetRole: "primary", continuous }]);
    store = fixture.store;
    archiver = new WalArchiver({ ...fixture, nodeName: "n1" });
    controller = new BackupReconciler(fixture);
    // The primary and a replica on this node (n1, or none named), a replica on n2.
    await seedComponent(fixture, "archive-wal", [
      [0, "n1", "primary"],
      [1, undefined, "secondary"],
      [2, "n2", "secondary"],
    ]);
  });
  after(() => fixture.remove());

  function layoutOf(ordinal: number): InstanceLayout {
    return instanceLayout(fixture.paths, { metadata: { name: `pg-postgresql-${ordinal}`, namespace: NS }, spec: { port: 20000 } } as Instance);
  }

  async function exists(path: string): Promise<boolean> {
    return stat(path).then(
      () => true,
      () => false,
    );
  }

  async function get(name: string): Promise<Backup | undefined> {
    return store.get<Backup>({ kind: "Backup", namespace: NS, name });
  }

  async function create(name: string): Promise<void> {
    await store.create<Resource>({ apiVersion: "dataprotection.kubeblocks.io/v1alpha1", kind: "Backup", metadata: { name, namespace: NS }, spec: { backupPolicyName: POLICY, backupMethod: "archive-wal", deletionPolicy: "Delete" } });
  }

  it("the primary's agent turns handing over on for this node's instances and reports; the Backup is Running from that moment", async () => {
    await create("wal");
    await controller.reconcile(`${NS}/wal`);
    const handed = (await get("wal"))?.status ?? {};
    assert.deepEqual([handed.phase, handed.source?.instance], [undefined, "pg-postgresql-0"], "handed to the primary, not Running before its agent answers");
    assert.equal(await exists(continuous.flagFile(layoutOf(0))), false);
    await archiver.reconcile();
    assert.deepEqual(await Promise.all([0, 1, 2].map((ordinal) => exists(continuous.flagFile(layoutOf(ordinal))))), [true, true, false], "not on another node's instance");
    const run = (await get("wal"))?.status?.run ?? { node: "", state: "Failed", startedAt: "" };
    assert.deepEqual([run.state, run.node], ["Running", "n1"]);
    await controller.reconcile(`${NS}/wal`);
    const running = (await get("wal"))?.status ?? {};
    assert.deepEqual([running.phase, running.timeRange?.start], ["Running", run.startedAt]);
  });

  it("files a server hands over go into the archive, and the controller reports the range they cover", async () => {
    const spool = continuous.spoolDirectory(layoutOf(1));
    const name = "000000010000000000000003";
    await writeFile(join(spool, name), Buffer.alloc(16_384, 5));
    const writtenAt = new Date(Date.now() - 1000);
    await utimes(join(spool, name), writtenAt, writtenAt);
    await archiver.reconcile();
    assert.deepEqual((await readdir(spool)).filter((file) => continuous.isLogFile(file)), [], "the spool copy goes once archived");
    const backup = (await get("wal"))!;
    const archive = { repository: fixture.repository, keyring: fixture.keyring, prefix: logArchivePrefix(backup), backupUid: backup.metadata.uid ?? "" };
    assert.deepEqual(await listArchivedLogFiles(archive), [name]);
    await controller.reconcile(`${NS}/wal`);
    const status = (await get("wal"))?.status ?? {};
    assert.deepEqual([status.timeRange?.end, status.totalSize], [writtenAt.toISOString(), "16384"]);
  });

  it("a second continuous backup of the component is refused while one archives", async () => {
    await create("wal-again");
    await controller.reconcile(`${NS}/wal-again`);
    const refused = await get("wal-again");
    assert.equal(refused?.status?.phase, "Failed");
    assert.match(refused.status.failureReason ?? "", /backup wal already archives the WAL of cluster pg component postgresql/);
    await store.delete({ kind: "Backup", namespace: NS, name: "wal-again" });
    await controller.reconcile(`${NS}/wal-again`);
  });

  it("deleting the Backup turns handing over off first, then the archive goes", async () => {
    await store.delete({ kind: "Backup", namespace: NS, name: "wal" });
    await controller.reconcile(`${NS}/wal`);
    assert.ok(await get("wal"), "kept while its agent still hands over");
    await writeFile(join(continuous.spoolDirectory(layoutOf(0)), "000000010000000000000004"), Buffer.alloc(100));
    await archiver.reconcile();
    assert.equal(await exists(continuous.flagFile(layoutOf(0))), false);
    assert.equal(await exists(continuous.flagFile(layoutOf(1))), false);
    assert.deepEqual((await readdir(continuous.spoolDirectory(layoutOf(0)))).filter((file) => continuous.isLogFile(file)), [], "the spool is dropped");
    assert.equal((await get("wal"))?.status?.run?.state, "Stopped");
    const uid = (await get("wal"))?.metadata.uid ?? "";
    await controller.reconcile(`${NS}/wal`);
    assert.equal(await get("wal"), undefined);
    assert.deepEqual(await listArchivedLogFiles({ repository: fixture.repository, keyring: fixture.keyring, prefix: `wal_${uid}_`, backupUid: uid }), []);
  });

  it("a server that cannot archive fails the Backup with the agent's reason, and nothing hands over", async () => {
    serverProblem = "archive_mode is off: restart the cluster";
    await create("wal-refused");
    await controller.reconcile(`${NS}/wal-refused`);
    assert.equal(await archiver.reconcile(), undefined, "nothing archives: no pass is due");
    assert.equal((await get("wal-refused"))?.status?.run?.state, "Failed");
    await controller.reconcile(`${NS}/wal-refused`);
    const failed = await get("wal-refused");
    assert.equal(failed?.status?.phase, "Failed");
    assert.equal(failed.status.failureReason, serverProblem);
    assert.equal(await exists(continuous.flagFile(layoutOf(0))), false);
  });
});
