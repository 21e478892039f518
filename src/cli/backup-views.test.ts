import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Resource } from "../api/index.ts";
import { backupManifest, defaultBackupName } from "./backup.ts";
import { backupStatusLine, backupsTable, formatBytes, restoreProgressLine, verificationText } from "./backup-views.ts";
import { restoredClusterManifest } from "./cluster-restore.ts";

describe("backup output", () => {
  it("sizes are human-readable, unknown ones a dash", () => {
    assert.equal(formatBytes(512), "512 B");
    assert.equal(formatBytes("47147008"), "45.0 MiB");
    assert.equal(formatBytes(""), "-");
    assert.equal(formatBytes(undefined), "-");
  });

  it("a running backup shows its progress; the list has kbcli's columns", () => {
    const running: Resource = { apiVersion: "v", kind: "Backup", metadata: { name: "b1", creationTimestamp: "2025-01-01T00:00:00Z" }, spec: { backupMethod: "pg-basebackup" }, status: { phase: "Running", progress: { bytesDone: 2097152, bytesPerSecond: 1048576 }, source: { cluster: "pg" } } };
    assert.equal(backupStatusLine(running), "Running 2.0 MiB, 1.0 MiB/s");
    const table = backupsTable([running], new Date("2025-01-01T00:01:00Z"), false);
    assert.match(table, /^NAME\s+SOURCE-CLUSTER\s+METHOD\s+STATUS\s+TOTAL-SIZE/);
    assert.match(table, /b1\s+pg\s+pg-basebackup\s+Running 2\.0 MiB, 1\.0 MiB\/s/);
    const continuous: Resource = { ...running, spec: { backupMethod: "archive-wal" }, status: { phase: "Running", timeRange: { start: "2025-01-01T00:00:00.250Z", end: "2025-01-01T00:05:00Z" } } };
    assert.match(backupsTable([continuous], new Date("2025-01-01T00:06:00Z"), false), /archive-wal\s+Running\s.*2025-01-01T00:00:00Z\.\.2025-01-01T00:05:00Z$/m);
  });

  it("with an estimate the line shows the time left, and a retried backup says so", () => {
    const status = { phase: "Running", retries: 1, progress: { bytesDone: 2097152, bytesPerSecond: 1048576, estimatedTotalBytes: 10485760, etaSeconds: 8 } };
    const running: Resource = { apiVersion: "v", kind: "Backup", metadata: { name: "b1" }, spec: {}, status };
    assert.equal(backupStatusLine(running), "Running 2.0 MiB of ~10.0 MiB, 1.0 MiB/s, about 8s left (retry 1)");
    assert.equal(backupStatusLine({ ...running, status: { phase: "Running", retries: 2 } }), "Running (retry 2)");
  });

  it("an instance restoring shows bytes read of the total, the rate and the time left", () => {
    const restoreProgress = { backup: "demo/b", bytesDone: 44040192, totalBytes: 314572800, bytesPerSecond: 20971520, etaSeconds: 13, startedAt: "t", updatedAt: "t" };
    assert.equal(restoreProgressLine({ status: { restoreProgress } }), "42.0 MiB of 300.0 MiB (14%), 20.0 MiB/s, about 13s left");
    assert.equal(restoreProgressLine({ status: { restoreProgress: { ...restoreProgress, bytesDone: 0, totalBytes: undefined, etaSeconds: undefined, bytesPerSecond: 0 } } }), "0 B, 0 B/s");
    assert.equal(restoreProgressLine({ status: {} }), "");
  });

  it("a damaged verification names each bad chunk and its object", () => {
    const report = { ok: false, chunksVerified: 9, chunksTotal: 10, plaintextBytes: 1, problems: [{ problem: "checksum", objectKey: "data/x/s/0/3", stream: "base.tar", chunkIndex: 3, message: "sha256 differs" }], unreferencedObjects: [] };
    const { text, ok } = verificationText("b1", report);
    assert.equal(ok, false);
    assert.match(text, /backup b1 is DAMAGED: 9\/10 chunks intact\n {2}stream base\.tar chunk 3 \(object data\/x\/s\/0\/3\): checksum: sha256 differs/);
    assert.equal(verificationText("b1", { ...report, ok: true, problems: [] }).ok, true);
  });

  it("an intact incremental names its chain", () => {
    const report = { ok: true, chunksVerified: 4, chunksTotal: 4, plaintextBytes: 1024, manifestSha256: "ab", chain: ["full", "incr1"], problems: [], unreferencedObjects: [] };
    assert.match(verificationText("incr2", report).text, /backup incr2 is intact: 4\/4 chunks \(1\.0 KiB\) checked, manifest sha256 ab, incremental on full <- incr1\n/);
  });
});

describe("backup and restore manifests", () => {
  it("backup create names the policy and method, with a default name from the clock", () => {
    assert.equal(defaultBackupName("pg", "pg-basebackup", new Date("2025-02-03T04:05:06Z")), "pg-pg-basebackup-20250203040506");
    assert.deepEqual(backupManifest({ name: "b", namespace: "demo", policy: "pg-postgresql-backup-policy", method: "pg-basebackup" }).spec, { backupPolicyName: "pg-postgresql-backup-policy", backupMethod: "pg-basebackup", deletionPolicy: "Delete" });
  });

  it("cluster restore copies the source's spec and names the backup, replacing any earlier restore", () => {
    const manifest = restoredClusterManifest("pg2", "demo", { clusterDef: "postgresql", componentSpecs: [{ name: "postgresql" }], restore: { source: { name: "older" } } }, { name: "b", namespace: "demo" });
    assert.deepEqual(manifest.spec, { clusterDef: "postgresql", componentSpecs: [{ name: "postgresql" }], restore: { source: { apiGroup: "dataprotection.kubeblocks.io", kind: "Backup", name: "b", namespace: "demo" } } });
    assert.deepEqual(manifest.metadata, { name: "pg2", namespace: "demo" });
  });
});
