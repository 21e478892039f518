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
import { Readable } from "node:stream";
import type { Backup, BackupRun, Resource } from "../api/index.ts";
import { BackupWriter, listCompleteBackups } from "../backup/index.ts";
import { BackupReconciler } from "../controllers/backup/index.ts";
import type { BackupContext } from "../engines/index.ts";
import { backupIdOf } from "../dataprotection/index.ts";
import { BackupRunner } from "./backup-runner.ts";
import { backupFixture, NS, POLICY, seedComponent, type BackupFixture } from "./backup-test-fixtures.ts";

const PAYLOAD = Buffer.alloc(200_000, 3);

describe("backups taken by the node agent", () => {
  let fixture: BackupFixture;
  let store: BackupFixture["store"];
  let runner: BackupRunner;
  let controller: BackupReconciler;

  before(async () => {
    const backup = async (_context: unknown, sink: { writeStream: (name: string, source: Readable) => Promise<unknown> }): Promise<void> => {
      await sink.writeStream("dump", Readable.from([PAYLOAD]));
    };
    // "endless" streams more than one chunk (4 MiB), then waits until the job is cancelled.
    const endless = async (context: BackupContext, sink: { writeStream: (name: string, source: Readable) => Promise<unknown> }): Promise<void> => {
      async function* chunks(): AsyncGenerator<Buffer> {
        yield Buffer.alloc(5 * 1024 * 1024, 9);
        await new Promise((resolve) => context.signal.addEventListener("abort", resolve, { once: true }));
        throw new Error("cancelled");
      }
      await sink.writeStream("dump", Readable.from(chunks()));
    };
    fixture = await backupFixture([
      { name: "dump", targetRole: "primary", backup },
      { name: "endless", targetRole: "primary", backup: endless },
    ]);
    store = fixture.store;
    runner = new BackupRunner({ ...fixture, nodeName: "n1" });
    controller = new BackupReconciler(fixture);
    await seedComponent(fixture, "dump", [
      [0, undefined, "primary"],
      [1, "n2", "primary"],
    ]);
  });
  after(() => fixture.remove());

  async function create(name: string, backupMethod = "dump"): Promise<Backup> {
    return (await store.create<Resource>({ apiVersion: "dataprotection.kubeblocks.io/v1alpha1", kind: "Backup", metadata: { name, namespace: NS }, spec: { backupPolicyName: POLICY, backupMethod, deletionPolicy: "Delete" } })) as Backup;
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
    for await (const object of fixture.repository.list(`data/${backupId}/`)) keys.push(object.key);
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
    assert.ok((await listCompleteBackups(fixture.repository)).includes(backupIdOf(done)));
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
    const writer = await BackupWriter.create({ repository: fixture.repository, keyring: fixture.keyring, backupId: backupIdOf(backup), metadata: { backupUid: backup.metadata.uid }, chunkSize: 1024 });
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
    const writer = await BackupWriter.create({ repository: fixture.repository, keyring: fixture.keyring, backupId: backupIdOf(backup), metadata: { backupUid: backup.metadata.uid } });
    await writer.writeStream("base.tar", Readable.from([Buffer.alloc(5000, 1)]));
    const summary = await writer.commit();
    await runner.reconcile(`${NS}/committed`);
    await controller.reconcile(`${NS}/committed`);
    const after = await get("committed");
    assert.equal(after.status?.phase, "Completed");
    assert.equal(after.status.manifestSha256, summary.manifestSha256);
    assert.equal(after.status.totalSize, "5000");
  });

  it("deleting a running backup: the agent cancels its job and what it stored goes, then the Backup", async () => {
    const created = await create("deleted", "endless");
    const source = { cluster: "pg", component: "postgresql", instance: "pg-postgresql-0", engine: "toy", version: "1.0" };
    const backup = await store.updateStatus<Backup>({ ...created, metadata: { ...created.metadata }, status: { phase: "Running", backupRepoName: "local", path: backupIdOf(created), source } });
    await store.update<Backup>({ ...backup, metadata: { ...backup.metadata, finalizers: ["dataprotection.kubeblocks.io/finalizer"] } });
    await runner.reconcile(`${NS}/deleted`);
    const id = backupIdOf(backup);
    for (let i = 0; i < 100 && (await dataKeys(id)).length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok((await dataKeys(id)).length > 0, "the job stored a chunk");
    await store.delete({ kind: "Backup", namespace: NS, name: "deleted" });
    await controller.reconcile(`${NS}/deleted`);
    assert.equal((await get("deleted")).status?.phase, "Deleting", "kept while its agent's job runs");
    await runner.reconcile(`${NS}/deleted`);
    const cancelled = (await get("deleted")).status?.run;
    assert.deepEqual([cancelled?.state, cancelled?.reason], ["Failed", "the backup was cancelled"]);
    assert.deepEqual(await dataKeys(id), [], "the cancelled writer deleted what it stored");
    await controller.reconcile(`${NS}/deleted`);
    assert.equal(await store.get({ kind: "Backup", namespace: NS, name: "deleted" }), undefined);
  });
});
