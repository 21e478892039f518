/**
 * The backup controller against a real store and a real local repository: it hands a backup to a node agent and
 * turns what the agent reports (status.run) into the phase; a deleted backup waits for its agent to stop the job, then
 * its data goes; a backup naming no policy, or whose instance vanished before its agent started, fails with a reason.
 * The agent's side (taking the backup, settling one cut short by a restart) is src/agent/backup-runner.test.ts.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import type { Backup, BackupRun, Resource } from "../../api/index.ts";
import { BackupWriter, LocalRepository, listCompleteBackups } from "../../backup/index.ts";
import { backupIdOf, ensureDefaultBackupRepo } from "../../dataprotection/index.ts";
import { loadOrCreateKeyring, type Keyring } from "../../security/index.ts";
import { openSqliteStore, type Store } from "../../store/index.ts";
import type { EventRecorder } from "../runtime/index.ts";
import { BackupReconciler } from "./reconciler.ts";

describe("backup controller", () => {
  let dir: string;
  let store: Store;
  let keyring: Keyring;
  let repository: LocalRepository;
  let reconciler: BackupReconciler;
  const events: { reason: string; message: string }[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "holdfast-backup-controller-"));
    store = openSqliteStore({ path: join(dir, "store.db") });
    keyring = await loadOrCreateKeyring(join(dir, "keyring.json"));
    repository = await LocalRepository.open(join(dir, "backups"));
    await ensureDefaultBackupRepo(store, repository.root);
    const recorder: EventRecorder = { record: (_object, _type, reason, message) => Promise.resolve(void events.push({ reason, message })) };
    const engines = { list: () => [], find: () => undefined, versions: () => Promise.resolve([]) };
    reconciler = new BackupReconciler({ store, engines, keyring, events: recorder });
  });
  after(async () => {
    store.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A Backup the controller handed to the agent of instance pg-postgresql-0, with what that agent reported. */
  async function handedOut(name: string, run?: BackupRun): Promise<Backup> {
    const created = await store.create<Resource>({ apiVersion: "dataprotection.kubeblocks.io/v1alpha1", kind: "Backup", metadata: { name, namespace: "demo", finalizers: ["dataprotection.kubeblocks.io/finalizer"] }, spec: { backupPolicyName: "pg-postgresql-backup-policy", backupMethod: "pg-basebackup", deletionPolicy: "Delete" } });
    const backup = created as Backup;
    const source = { cluster: "pg", component: "postgresql", instance: "pg-postgresql-0", engine: "postgresql", version: "16" };
    return store.updateStatus<Backup>({ ...backup, status: { phase: "Running", startTimestamp: new Date().toISOString(), backupRepoName: "local", path: backupIdOf(backup), source, ...(run === undefined ? {} : { run }) } });
  }

  async function get(name: string): Promise<Backup | undefined> {
    return store.get<Backup>({ kind: "Backup", namespace: "demo", name });
  }

  async function dataKeys(backupId: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const object of repository.list(`data/${backupId}/`)) keys.push(object.key);
    return keys;
  }

  it("completes a backup with the digest and sizes its node agent reports, and nothing before", async () => {
    const backup = await handedOut("committed", { node: "n1", state: "Running", startedAt: new Date().toISOString() });
    const writer = await BackupWriter.create({ repository, keyring, backupId: backupIdOf(backup), metadata: { backupUid: backup.metadata.uid } });
    await writer.writeStream("base.tar", Readable.from([Buffer.alloc(5000, 1)]));
    const summary = await writer.commit();
    await reconciler.reconcile("demo/committed");
    assert.equal((await get("committed"))?.status?.phase, "Running", "the agent has not reported yet");
    const live = (await get("committed"))!;
    await store.updateStatus<Backup>({ ...live, status: { ...live.status, run: { ...live.status!.run!, state: "Succeeded", ...summary } } });
    await reconciler.reconcile("demo/committed");
    const after = await get("committed");
    assert.equal(after?.status?.phase, "Completed");
    assert.equal(after.status.manifestSha256, summary.manifestSha256);
    assert.equal(after.status.totalSize, "5000");
    assert.ok(events.some((e) => e.reason === "BackupCompleted"));
  });

  it("fails a backup with the reason its node agent reports", async () => {
    await handedOut("refused", { node: "n1", state: "Failed", startedAt: new Date().toISOString(), reason: "pg_basebackup: could not connect" });
    await reconciler.reconcile("demo/refused");
    const after = await get("refused");
    assert.equal(after?.status?.phase, "Failed");
    assert.equal(after.status.failureReason, "pg_basebackup: could not connect");
  });

  it("fails a backup whose instance was deleted before its node agent started it", async () => {
    await handedOut("orphaned-instance");
    await reconciler.reconcile("demo/orphaned-instance");
    const after = await get("orphaned-instance");
    assert.equal(after?.status?.phase, "Failed");
    assert.match(after.status.failureReason ?? "", /instance pg-postgresql-0 was deleted before its node agent started the backup/);
  });

  it("deleting a backup waits while its node agent still runs the job, then removes its data and the object", async () => {
    const backup = await handedOut("deleted-while-running", { node: "n1", state: "Running", startedAt: new Date().toISOString() });
    const writer = await BackupWriter.create({ repository, keyring, backupId: backupIdOf(backup), metadata: { backupUid: backup.metadata.uid }, chunkSize: 1024 });
    await writer.writeStream("base.tar", Readable.from([Buffer.alloc(5000, 7)]));
    await writer.commit();
    await store.delete({ kind: "Backup", namespace: "demo", name: "deleted-while-running" });
    await reconciler.reconcile("demo/deleted-while-running");
    const waiting = await get("deleted-while-running");
    assert.equal(waiting?.status?.phase, "Deleting");
    assert.ok((await dataKeys(backupIdOf(backup))).length > 0, "nothing is deleted while the agent's job runs");
    await store.updateStatus<Backup>({ ...waiting, status: { ...waiting.status, run: { ...waiting.status.run!, state: "Failed", reason: "the backup was cancelled" } } });
    await reconciler.reconcile("demo/deleted-while-running");
    assert.equal(await get("deleted-while-running"), undefined);
    assert.equal((await listCompleteBackups(repository)).includes(backupIdOf(backup)), false);
    assert.deepEqual(await dataKeys(backupIdOf(backup)), []);
  });

  it("deleting a completed backup with deletionPolicy Delete removes its data, then the object", async () => {
    const id = backupIdOf((await get("committed"))!);
    assert.ok((await listCompleteBackups(repository)).includes(id));
    await store.delete({ kind: "Backup", namespace: "demo", name: "committed" });
    await reconciler.reconcile("demo/committed");
    assert.equal(await get("committed"), undefined);
    assert.equal((await listCompleteBackups(repository)).includes(id), false);
    assert.deepEqual(await dataKeys(id), []);
  });

  it("a new backup whose policy does not exist fails with a reason that says what to do", async () => {
    await store.create<Resource>({ apiVersion: "dataprotection.kubeblocks.io/v1alpha1", kind: "Backup", metadata: { name: "orphan", namespace: "demo" }, spec: { backupPolicyName: "nope", backupMethod: "pg-basebackup", deletionPolicy: "Delete" } });
    await reconciler.reconcile("demo/orphan");
    const after = await get("orphan");
    assert.equal(after?.status?.phase, "Failed");
    assert.match(after.status.failureReason ?? "", /BackupPolicy nope not found in namespace demo/);
    assert.ok(events.some((e) => e.reason === "BackupFailed"));
  });
});
