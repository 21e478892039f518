import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Backup, Cluster, Instance } from "../api/index.ts";
import { openSqliteStore, type Store } from "../store/index.ts";
import { createLogger } from "../util/index.ts";
import { ControlPlaneMetrics } from "./control-plane-metrics.ts";
import { certificateSamples } from "./key-ages.ts";
import { backupSamples, clusterSamples, instanceSamples, ObjectTally, walArchiveLagSamples } from "./object-metrics.ts";
import { finishedBackup, finishedRestore, finishedRoleChanges } from "./transitions.ts";

function cluster(roleChange?: Record<string, unknown>, phase = "Running"): Cluster {
  return {
    apiVersion: "apps.kubeblocks.io/v1",
    kind: "Cluster",
    metadata: { name: "pg", namespace: "demo" },
    spec: { componentSpecs: [] },
    status: { phase, ...(roleChange === undefined ? {} : { replication: { postgresql: { roleChange } } }) },
  } as unknown as Cluster;
}

function backup(phase: string, extra: Record<string, unknown> = {}): Backup {
  return { apiVersion: "dataprotection.kubeblocks.io/v1alpha1", kind: "Backup", metadata: { name: "b", namespace: "demo" }, spec: { backupMethod: "pg-basebackup", backupPolicyName: "p" }, status: { phase, ...extra } } as unknown as Backup;
}

function instance(name: string, status: Instance["status"]): Instance {
  return { apiVersion: "holdfast.io/v1alpha1", kind: "Instance", metadata: { name, namespace: "demo" }, spec: { engine: "postgresql", version: "15", clusterName: "pg", componentName: "postgresql", ordinal: 0, port: 20001, running: true, parameters: {}, deleteData: true, role: "primary" }, status };
}

async function until(condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100 && !(await condition()); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.ok(await condition());
}

describe("transitions", () => {
  const started = { reason: "Failover", from: "pg-0", to: "pg-1", result: "InProgress", startedAt: "2026-01-01T00:00:00.000Z" };
  const done = { ...started, result: "Succeeded", finishedAt: "2026-01-01T00:00:04.500Z" };

  it("count a switchover or failover once, when it finishes, with its duration", () => {
    assert.deepEqual(finishedRoleChanges(cluster(started), cluster(done)), [{ reason: "Failover", result: "Succeeded", seconds: 4.5 }]);
    assert.deepEqual(finishedRoleChanges(cluster(done), cluster(done)), [], "seen finished already");
    assert.deepEqual(finishedRoleChanges(cluster(), cluster(started)), [], "not finished yet");
    const next = { ...done, startedAt: "2026-01-01T01:00:00.000Z", finishedAt: "2026-01-01T01:00:01.000Z", reason: "Switchover" };
    assert.deepEqual(finishedRoleChanges(cluster(done), cluster(next)), [{ reason: "Switchover", result: "Succeeded", seconds: 1 }]);
  });

  it("count a backup when it reaches Completed or Failed, with bytes of a completed one", () => {
    const completed = backup("Completed", { startTimestamp: "2026-01-01T00:00:00Z", completionTimestamp: "2026-01-01T00:00:10Z", run: { node: "n", state: "Succeeded", startedAt: "x", plaintextBytes: 1000, storedBytes: 400 } });
    assert.deepEqual(finishedBackup(backup("Running"), completed), { method: "pg-basebackup", outcome: "Succeeded", seconds: 10, bytes: 1000, storedBytes: 400 });
    assert.equal(finishedBackup(completed, completed), undefined);
    assert.equal(finishedBackup(undefined, completed), undefined, "one that finished before the watch began is not counted");
    assert.equal(finishedBackup(backup("Running"), backup("Failed"))?.outcome, "Failed");
  });

  it("count a restore when its progress goes, succeeded when the Restored condition is True", () => {
    const restoring = instance("pg-0", { phase: "Initializing", restoreProgress: { backup: "demo/b", bytesDone: 2048, bytesPerSecond: 1, startedAt: "2026-01-01T00:00:00.000Z", updatedAt: "2026-01-01T00:00:01.000Z" } });
    const restored = instance("pg-0", { phase: "Starting", conditions: [{ type: "Restored", status: "True", reason: "RestoredFromBackup", message: "", lastTransitionTime: "2026-01-01T00:00:03.000Z" }] });
    assert.deepEqual(finishedRestore(restoring, restored, Date.parse("2026-01-01T00:00:03.000Z")), { outcome: "Succeeded", seconds: 3, bytes: 2048 });
    assert.equal(finishedRestore(restoring, instance("pg-0", { phase: "Failed" }), Date.parse("2026-01-01T00:00:03.000Z"))?.outcome, "Failed");
    assert.equal(finishedRestore(restored, restored, 0), undefined);
  });
});

describe("object samples", () => {
  it("count clusters, instances and backups by phase (and role), never by object name", () => {
    assert.deepEqual(clusterSamples([cluster(undefined, "Running"), cluster(undefined, "Running"), cluster(undefined, "Failed")]), [
      { labels: { namespace: "demo", phase: "Running" }, value: 2 },
      { labels: { namespace: "demo", phase: "Failed" }, value: 1 },
    ]);
    const samples = instanceSamples([instance("a", { phase: "Running", replicationState: { role: "primary" } }), instance("b", { phase: "Running", role: "secondary" })]);
    assert.deepEqual(samples.map((s) => [s.labels["role"], s.value]), [["primary", 1], ["secondary", 1]]);
    assert.deepEqual(backupSamples([backup("Completed"), backup("Completed")]), [{ labels: { namespace: "demo", method: "pg-basebackup", phase: "Completed" }, value: 2 }]);
  });

  it("measure the WAL archive lag of archiving continuous backups", () => {
    const archiving = backup("Running", { source: { instance: "pg-0", node: "n" }, timeRange: { end: "2026-01-01T00:00:00Z" } });
    assert.deepEqual(walArchiveLagSamples([archiving, backup("Completed", { timeRange: { end: "2026-01-01T00:00:00Z" } })], Date.parse("2026-01-01T00:01:30Z")).map((s) => s.value), [90]);
  });
});

describe("object tally", () => {
  it("moves an object's share when it changes, drops it when deleted, and starts over on a relisting", () => {
    const tally = new ObjectTally();
    tally.changed(cluster(undefined, "Creating"));
    tally.changed({ ...cluster(undefined, "Running"), metadata: { name: "other", namespace: "demo" } });
    assert.deepEqual(tally.samples("clusters").map((s) => [s.labels["phase"], s.value]), [["Creating", 1], ["Running", 1]]);
    tally.changed(cluster(undefined, "Running"));
    assert.deepEqual(tally.samples("clusters"), [{ labels: { namespace: "demo", phase: "Running" }, value: 2 }]);
    tally.deleted(cluster(undefined, "Running"));
    assert.deepEqual(tally.samples("clusters"), [{ labels: { namespace: "demo", phase: "Running" }, value: 1 }]);
    tally.changed(instance("pg-0", { phase: "Running", role: "primary" }));
    tally.relisted("Cluster", []);
    assert.deepEqual(tally.samples("clusters"), [], "a relisting replaces what was known of that kind");
    assert.equal(tally.samples("instances").length, 1, "and of that kind only");
  });

  it("keeps a restore's bytes while it runs, and a sum that two restores make until both are gone", () => {
    const tally = new ObjectTally();
    const restoring = (name: string, bytesDone: number): Instance => instance(name, { phase: "Initializing", restoreProgress: { backup: "demo/b", bytesDone, bytesPerSecond: 1, startedAt: "2026-01-01T00:00:00.000Z", updatedAt: "2026-01-01T00:00:01.000Z" } });
    tally.changed(restoring("pg-0", 0));
    tally.changed(restoring("pg-1", 0));
    tally.changed(restoring("pg-0", 4096));
    assert.deepEqual(tally.samples("restoreBytes"), [{ labels: { namespace: "demo", cluster: "pg" }, value: 4096 }]);
    tally.changed(instance("pg-0", { phase: "Running" }));
    assert.deepEqual(tally.samples("restoreBytes"), [{ labels: { namespace: "demo", cluster: "pg" }, value: 0 }], "pg-1 still restores");
    tally.deleted(restoring("pg-1", 0));
    assert.deepEqual(tally.samples("restoreBytes"), []);
  });
});

describe("ControlPlaneMetrics", () => {
  let dir = "";
  let store: Store;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "holdfast-metrics-"));
    store = openSqliteStore({ path: join(dir, "store.db") });
  });
  after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("exposes requests, store operations, the audit queue and what the objects say, in Prometheus text format", async () => {
    const metrics = new ControlPlaneMetrics({ store, logger: createLogger({ level: "silent" }) });
    let observer: ((ms: number, failed: boolean) => void) | undefined;
    metrics.observeAudit({
      pending: 3,
      observe: (o) => {
        observer = (ms, failed) => o.appended(ms, failed);
      },
    });
    observer?.(2, false);
    await metrics.start();
    const instrumented = metrics.instrumentStore(store);
    await instrumented.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "demo" } });
    await instrumented.create(cluster());
    metrics.observeRequest({ verb: "get", group: "", resource: "namespaces", path: "", code: 200, seconds: 0.003, authentication: { method: "bearer", outcome: "success" }, denied: false });
    metrics.observeRequest({ verb: "get", group: "", resource: "", path: "/metrics", code: 403, seconds: 0.002, authentication: { method: "bearer", outcome: "success" }, denied: true });
    const { contentType, text } = await metrics.exposition();
    metrics.stop();
    assert.match(contentType, /^text\/plain; version=0\.0\.4/);
    assert.match(text, /holdfast_apiserver_requests_total\{verb="get",group="",resource="namespaces",path="",code="200"\} 1/);
    assert.match(text, /holdfast_authorization_denials_total\{verb="get",group="",resource="",path="\/metrics"\} 1/);
    assert.match(text, /holdfast_authentication_attempts_total\{method="bearer",outcome="success"\} 2/);
    assert.match(text, /holdfast_store_operation_duration_seconds_count\{operation="create",outcome="ok"\} 2/);
    assert.match(text, /holdfast_store_operations_total\{operation="create",kind="Cluster",outcome="ok"\} 1/);
    assert.match(text, /holdfast_audit_queue_depth 3/);
    assert.match(text, /holdfast_audit_append_duration_seconds_count\{outcome="ok"\} 1/);
    assert.match(text, /holdfast_clusters\{namespace="demo",phase="Running"\} 1/);
    assert.equal(text, await metrics.registry.metrics(), "the same exposition as prom-client writes in one go");
  });

  it("counts objects from the watch, without listing the store at scrape time", async () => {
    const metrics = new ControlPlaneMetrics({ store, logger: createLogger({ level: "silent" }) });
    await metrics.start();
    await store.create({ ...cluster(undefined, "Failed"), metadata: { name: "watched", namespace: "demo" } });
    const listed: string[] = [];
    const listing = store.list.bind(store);
    store.list = (kind, options) => {
      listed.push(kind);
      return listing(kind, options);
    };
    try {
      await until(async () => /holdfast_clusters\{namespace="demo",phase="Failed"\} 1/.test((await metrics.exposition()).text));
      assert.deepEqual(listed, []);
    } finally {
      store.list = listing;
      metrics.stop();
    }
  });

  it("reports certificate ages and expiry from validity read once, as of each scrape", () => {
    const validity = [{ name: "api-serving", from: Date.parse("2026-01-01T00:00:00Z"), to: Date.parse("2027-01-01T00:00:00Z") }];
    const first = certificateSamples(validity, Date.parse("2026-01-01T01:00:00Z"));
    const later = certificateSamples(validity, Date.parse("2026-01-01T02:00:00Z"));
    assert.deepEqual(first.age, [{ labels: { certificate: "api-serving" }, value: 3600 }]);
    assert.deepEqual(later.age, [{ labels: { certificate: "api-serving" }, value: 7200 }]);
    assert.deepEqual(later.expiry, [{ labels: { certificate: "api-serving" }, value: (Date.parse("2027-01-01T00:00:00Z") - Date.parse("2026-01-01T02:00:00Z")) / 1000 }]);
  });
});
