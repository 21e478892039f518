/**
 * The node agent's backup runner with the backup controller, against a real store and a real local repository: the
 * agent of the target instance's node takes a backup the controller handed out and reports it (the controller then
 * completes it); an agent leaves the backups of other nodes' instances alone; a backup whose agent stopped during it
 * is settled at the agent's next start from the repository: Failed with its partial data deleted when the manifest
 * never landed, Completed with that manifest's digest when it did. The method is a stand-in that streams bytes: the
 * real engines' methods run in test/e2e/backup-*.test.ts and test/engines/backup-methods.test.ts.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import type { Backup, BackupRun, Resource } from "../api/index.ts";
import { BackupWriter, LocalRepository, listCompleteBackups } from "../backup/index.ts";
import { homePaths } from "../config/index.ts";
import { BackupReconciler } from "../controllers/backup/index.ts";
import type { EventRecorder } from "../controllers/runtime/index.ts";
import { backupIdOf, ensureDefaultBackupRepo } from "../dataprotection/index.ts";
import type { BackupMethodDefinition, Engine } from "../engines/index.ts";
import { createHostAccess } from "../runtime/index.ts";
import { loadOrCreateKeyring, type Keyring } from "../security/index.ts";
import { openSqliteStore, type Store } from "../store/index.ts";
import { BackupRunner } from "./backup-runner.ts";

const NS = "demo";
const POLICY = "pg-postgresql-backup-policy";
const PAYLOAD = Buffer.alloc(200_000, 3);

describe("backups taken by the node agent", () => {
  let dir: string;
  let store: Store;
  let keyring: Keyring;
  let repository: LocalRepository;
  let runner: BackupRunner;
  let controller: BackupReconciler;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "holdfast-backup-runner-"));
    store = openSqliteStore({ path: join(dir, "store.db") });
    keyring = await loadOrCreateKeyring(join(dir, "keyring.json"));
    repository = await LocalRepository.open(join(dir, "backups"));
    await ensureDefaultBackupRepo(store, repository.root);
    const events: EventRecorder = { record: () => Promise.resolve() };
    const method: Pick<BackupMethodDefinition, "name" | "targetRole" | "backup"> = { name: "dump", targetRole: "primary", backup: async (_context, sink) => {
        await sink.writeStream("dump", Readable.from([PAYLOAD]));
      },
    };
    const engine = { name: "toy", backupMethods: [method] } as unknown as Engine;
    const engines = { list: () => [engine], find: (name: string) => (name === "toy" ? engine : undefined), versions: () => Promise.resolve([{ version: "1.0", major: "1", binDir: "/nonexistent" }]) };
    const me = { name: "root", uid: 0, gid: 0 };
    const users = { userOf: () => Promise.resolve(me), hostOf: () => Promise.resolve(createHostAccess(me)) };
    runner = new BackupRunner({ store, engines, keyring, users, paths: homePaths(dir), events, nodeName: "n1" });
    controller = new BackupReconciler({ store, engines, keyring, events });
    await seed();
  });
  after(async () => {
    store.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A cluster's one instance (bound to `node`, or to no node), its BackupPolicy and account Secret. */
  async function seed(): Promise<void> {
    const labels = { "app.kubernetes.io/instance": "pg", "apps.kubeblocks.io/component-name": "postgresql" };
    const spec = { engine: "toy", version: "1.0", clusterName: "pg", componentName: "postgresql", port: 20000, running: true, parameters: {}, deleteData: true };
    for (const [ordinal, nodeName] of [[0, undefined], [1, "n2"]] as const) {
      const created = await store.create<Resource>({ apiVersion: "holdfast.io/v1alpha1", kind: "Instance", metadata: { name: `pg-postgresql-${ordinal}`, namespace: NS, labels }, spec: { ...spec, ordinal, ...(nodeName === undefined ? {} : { nodeName }) } });
      await store.updateStatus({ ...created, status: { ready: true, role: "primary" } });
    }
    await store.create<Resource>({ apiVersion: "v1", kind: "Secret", metadata: { name: "pg-account", namespace: NS }, data: { username: Buffer.from("backup").toString("base64"), password: Buffer.from("secret").toString("base64") } });
    const target = { podSelector: { matchLabels: labels }, connectionCredential: { secretName: "pg-account", usernameKey: "username", passwordKey: "password" } };
    await store.create<Resource>({ apiVersion: "dataprotection.kubeblocks.io/v1alpha1", kind: "BackupPolicy", metadata: { name: POLICY, namespace: NS }, spec: { target, backupMethods: [{ name: "dump" }] } });
  }

  async function create(name: string): Promise<Backup> {
    return (await store.create<Resource>({ apiVersion: "dataprotection.kubeblocks.io/v1alpha1", kind: "Backup", metadata: { name, namespace: NS }, spec: { backupPolicyName: POLICY, backupMethod: "dump", deletionPolicy: "Delete" } })) as Backup;
  }

  async function get(name: string): Promise<Backup> {
    const backup = await store.get<Backup>({ kind: "Backup", namespace: NS, name });
    assert.ok(backup, `backup ${name} exists`);
    return backup;
  }

  /** A backup handed to instance pg-postgresql-0, left by an agent of node n1 that stopped while it ran. */
  async function leftRunning(name: string): Promise<Backup> {
    const backup = await create(name);
    const run: BackupRun = { node: "n1", state: "Running", startedAt: new Date().toISOString() };
    const source = { cluster: "pg", component: "postgresql", instance: "pg-postgresql-0", engine: "toy", version: "1.0" };
    return store.updateStatus<Backup>({ ...backup, status: { phase: "Running", startTimestamp: run.startedAt, backupRepoName: "local", path: backupIdOf(backup), source, run } });
  }

  async function dataKeys(backupId: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const object of repository.list(`data/${backupId}/`)) keys.push(object.key);
    return keys;
  }

  it("the controller hands the backup out; the agent of the instance's node takes it and reports; the controller completes it", async () => {
    await create("taken");
    await controller.reconcile(`${NS}/taken`);
    const handed = (await get("taken")).status ?? {};
    assert.deepEqual([handed.phase, handed.source?.instance, handed.run], ["Running", "pg-postgresql-0", undefined]);
    const finished = new Promise<string>((resolve) => runner.onJobFinished(resolve));
    await runner.reconcile(`${NS}/taken`);
    assert.equal((await get("taken")).status?.run?.state, "Running", "Running is reported before the job writes");
    assert.equal(await finished, `${NS}/taken`);
    await runner.reconcile(`${NS}/taken`);
    const reported = (await get("taken")).status ?? {};
    const run = reported.run ?? { node: "", state: "Running", startedAt: "" };
    assert.deepEqual([run.state, run.node, run.plaintextBytes, reported.phase], ["Succeeded", "n1", PAYLOAD.length, "Running"]);
    await controller.reconcile(`${NS}/taken`);
    const done = await get("taken");
    assert.deepEqual([done.status?.phase, done.status?.totalSize, done.status?.manifestSha256], ["Completed", String(PAYLOAD.length), run.manifestSha256]);
    assert.ok((await listCompleteBackups(repository)).includes(backupIdOf(done)));
  });

  it("an agent leaves a backup of an instance bound to another node alone", async () => {
    const backup = await create("elsewhere");
    const source = { cluster: "pg", component: "postgresql", instance: "pg-postgresql-1", engine: "toy", version: "1.0" };
    await store.updateStatus<Backup>({ ...backup, status: { phase: "Running", backupRepoName: "local", path: backupIdOf(backup), source } });
    assert.equal(await runner.reconcile(`${NS}/elsewhere`), undefined);
    assert.equal((await get("elsewhere")).status?.run, undefined);
  });

  it("fails a backup cut short by a restart of its agent and deletes what it stored", async () => {
    const backup = await leftRunning("cut-short");
    const writer = await BackupWriter.create({ repository, keyring, backupId: backupIdOf(backup), metadata: { backupUid: backup.metadata.uid }, chunkSize: 1024 });
    await writer.writeStream("base.tar", Readable.from([Buffer.alloc(10_000, 7)]));
    assert.ok((await dataKeys(backupIdOf(backup))).length > 0, "the writer stored chunks");
    await runner.reconcile(`${NS}/cut-short`);
    assert.equal((await get("cut-short")).status?.run?.state, "Failed");
    await controller.reconcile(`${NS}/cut-short`);
    const after = await get("cut-short");
    assert.equal(after.status?.phase, "Failed");
    assert.match(after.status.failureReason ?? "", /node agent on node n1 stopped while this backup was running and it never completed/);
    assert.deepEqual(await dataKeys(backupIdOf(backup)), []);
  });

  it("completes a backup whose manifest was committed just before its agent restarted, recording its digest", async () => {
    const backup = await leftRunning("committed");
    const writer = await BackupWriter.create({ repository, keyring, backupId: backupIdOf(backup), metadata: { backupUid: backup.metadata.uid } });
    await writer.writeStream("base.tar", Readable.from([Buffer.alloc(5000, 1)]));
    const summary = await writer.commit();
    await runner.reconcile(`${NS}/committed`);
    await controller.reconcile(`${NS}/committed`);
    const after = await get("committed");
    assert.equal(after.status?.phase, "Completed");
    assert.equal(after.status.manifestSha256, summary.manifestSha256);
    assert.equal(after.status.totalSize, "5000");
  });
});
