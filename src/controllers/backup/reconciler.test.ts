/**
 * The backup controller's handling of a control-plane restart mid-backup, against a real store and a real local
 * repository: a Running backup whose manifest never landed is Failed and its partial data deleted; one whose
 * manifest landed is Completed with that manifest's digest. Also: deletion removes the data, and a backup naming
 * no policy fails with a reason.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import type { Backup, Resource } from "../../api/index.ts";
import { BackupWriter, LocalRepository, listCompleteBackups } from "../../backup/index.ts";
import { homePaths } from "../../config/index.ts";
import { backupIdOf, ensureDefaultBackupRepo } from "../../dataprotection/index.ts";
import { createHostAccess } from "../../runtime/index.ts";
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
    const nobody = { name: "nobody", uid: 65534, gid: 65534 };
    const users = { userOf: () => Promise.resolve(nobody), hostOf: () => Promise.resolve(createHostAccess(nobody)) };
    reconciler = new BackupReconciler({ store, engines, keyring, users, paths: homePaths(dir), events: recorder });
  });
  after(async () => {
    store.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A Backup left Running by a control plane that stopped. */
  async function runningBackup(name: string): Promise<Backup> {
    const created = await store.create<Resource>({ apiVersion: "dataprotection.kubeblocks.io/v1alpha1", kind: "Backup", metadata: { name, namespace: "demo", finalizers: ["dataprotection.kubeblocks.io/finalizer"] }, spec: { backupPolicyName: "pg-postgresql-backup-policy", backupMethod: "pg-basebackup", deletionPolicy: "Delete" } });
    const backup = created as Backup;
    return store.updateStatus<Backup>({ ...backup, status: { phase: "Running", startTimestamp: new Date().toISOString(), backupRepoName: "local", path: backupIdOf(backup) } });
  }

  async function dataKeys(backupId: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const object of repository.list(`data/${backupId}/`)) keys.push(object.key);
    return keys;
  }

  it("fails a backup cut short by a restart and deletes what it stored", async () => {
    const backup = await runningBackup("cut-short");
    const writer = await BackupWriter.create({ repository, keyring, backupId: backupIdOf(backup), metadata: { backupUid: backup.metadata.uid }, chunkSize: 1024 });
    await writer.writeStream("base.tar", Readable.from([Buffer.alloc(10_000, 7)]));
    assert.ok((await dataKeys(backupIdOf(backup))).length > 0, "the writer stored chunks");
    await reconciler.reconcile("demo/cut-short");
    const after = await store.get<Backup>({ kind: "Backup", namespace: "demo", name: "cut-short" });
    assert.equal(after?.status?.phase, "Failed");
    assert.match(after.status.failureReason ?? "", /control plane stopped while this backup was running and it never completed/);
    assert.deepEqual(await dataKeys(backupIdOf(backup)), []);
  });

  it("completes a backup whose manifest was committed just before the restart, recording its digest", async () => {
    const backup = await runningBackup("committed");
    const writer = await BackupWriter.create({ repository, keyring, backupId: backupIdOf(backup), metadata: { backupUid: backup.metadata.uid } });
    await writer.writeStream("base.tar", Readable.from([Buffer.alloc(5000, 1)]));
    const summary = await writer.commit();
    await reconciler.reconcile("demo/committed");
    const after = await store.get<Backup>({ kind: "Backup", namespace: "demo", name: "committed" });
    assert.equal(after?.status?.phase, "Completed");
    assert.equal(after.status.manifestSha256, summary.manifestSha256);
    assert.equal(after.status.totalSize, "5000");
  });

  it("deleting a backup with deletionPolicy Delete removes its data, then the object", async () => {
    const id = backupIdOf((await store.get<Backup>({ kind: "Backup", namespace: "demo", name: "committed" }))!);
    assert.ok((await listCompleteBackups(repository)).includes(id));
    await store.delete({ kind: "Backup", namespace: "demo", name: "committed" });
    await reconciler.reconcile("demo/committed");
    assert.equal(await store.get({ kind: "Backup", namespace: "demo", name: "committed" }), undefined);
    assert.equal((await listCompleteBackups(repository)).includes(id), false);
    assert.deepEqual(await dataKeys(id), []);
  });

  it("a new backup whose policy does not exist fails with a reason that says what to do", async () => {
    await store.create<Resource>({ apiVersion: "dataprotection.kubeblocks.io/v1alpha1", kind: "Backup", metadata: { name: "orphan", namespace: "demo" }, spec: { backupPolicyName: "nope", backupMethod: "pg-basebackup", deletionPolicy: "Delete" } });
    await reconciler.reconcile("demo/orphan");
    const after = await store.get<Backup>({ kind: "Backup", namespace: "demo", name: "orphan" });
    assert.equal(after?.status?.phase, "Failed");
    assert.match(after.status.failureReason ?? "", /BackupPolicy nope not found in namespace demo/);
    assert.ok(events.some((e) => e.reason === "BackupFailed"));
  });
});
