import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseRestoreTime, type Backup } from "../api/index.ts";
import { createPostgresqlEngine } from "../engines/index.ts";
import { continuousMethodsOf, coveredRange, planPointInTime } from "./pitr-plan.ts";

const methods = continuousMethodsOf([createPostgresqlEngine()]);

function backup(name: string, method: string, phase: string, [start, end]: [string, string?], cluster = "pg"): Backup {
  return {
    apiVersion: "dataprotection.kubeblocks.io/v1alpha1",
    kind: "Backup",
    metadata: { name, namespace: "demo", uid: `uid-${name}` },
    spec: { backupPolicyName: "pg-postgresql-backup-policy", backupMethod: method, deletionPolicy: "Delete" },
    status: { phase: phase as "Completed", timeRange: { start, ...(end === undefined ? {} : { end }) }, source: { cluster, component: "postgresql", instance: `${cluster}-postgresql-0`, engine: "postgresql", version: "15.18" } },
  };
}

const wal = backup("wal", "archive-wal", "Running", ["2025-01-01T10:00:00Z", "2025-01-01T12:00:00Z"]);
const before = backup("before", "pg-basebackup", "Completed", ["2025-01-01T09:00:00Z", "2025-01-01T09:05:00Z"]);
const first = backup("first", "pg-basebackup", "Completed", ["2025-01-01T10:10:00Z", "2025-01-01T10:15:00Z"]);
const second = backup("second", "pg-basebackup", "Completed", ["2025-01-01T11:00:00Z", "2025-01-01T11:05:00Z"]);
const failed = backup("failed", "pg-basebackup", "Failed", ["2025-01-01T11:20:00Z", "2025-01-01T11:25:00Z"]);
const other = backup("other", "pg-basebackup", "Completed", ["2025-01-01T11:30:00Z", "2025-01-01T11:35:00Z"], "pg2");
const dump = backup("dump", "pgdump", "Completed", ["2025-01-01T11:40:00Z", "2025-01-01T11:45:00Z"]);
const all = [wal, before, first, second, failed, other, dump];
const at = (time: string): Date => new Date(time);

describe("point-in-time planning", () => {
  it("the covered range runs from the end of the first full backup taken after archiving began to the last archived WAL", () => {
    const range = coveredRange(wal, all, methods);
    assert.deepEqual([range.start, range.end, range.firstBase?.metadata.name], ["2025-01-01T10:15:00Z", "2025-01-01T12:00:00Z", "first"]);
  });

  it("from the continuous backup: the latest full backup of the same cluster ending at or before the time", () => {
    const plan = planPointInTime(wal, at("2025-01-01T11:50:00Z"), all, methods);
    assert.ok("base" in plan);
    assert.deepEqual([plan.base.metadata.name, plan.archive.metadata.name], ["second", "wal"]);
    const earlier = planPointInTime(wal, at("2025-01-01T10:30:00Z"), all, methods);
    assert.ok("base" in earlier && earlier.base.metadata.name === "first");
  });

  it("refuses times outside the range, naming it", () => {
    for (const time of ["2025-01-01T10:14:59Z", "2025-01-01T12:00:01Z"]) {
      const plan = planPointInTime(wal, at(time), all, methods);
      assert.ok("problem" in plan);
      assert.match(plan.problem, /is not covered: backup wal covers 2025-01-01T10:15:00Z \(the end of full backup first\) to 2025-01-01T12:00:00Z \(the last archived WAL\)/);
    }
  });

  it("from a full backup: a continuous backup holding its WAL to the time; refused when it started before archiving", () => {
    const plan = planPointInTime(first, at("2025-01-01T11:50:00Z"), all, methods);
    assert.ok("base" in plan && plan.base.metadata.name === "first" && plan.archive.metadata.name === "wal");
    const tooOld = planPointInTime(before, at("2025-01-01T11:00:00Z"), all, methods);
    assert.ok("problem" in tooOld && /not covered from full backup before/.test(tooOld.problem));
    const beforeItsEnd = planPointInTime(second, at("2025-01-01T10:30:00Z"), all, methods);
    assert.ok("problem" in beforeItsEnd && /before full backup second ended/.test(beforeItsEnd.problem));
    const noArchive = planPointInTime(other, at("2025-01-01T11:50:00Z"), all, methods);
    assert.ok("problem" in noArchive && /no continuous backup \(archive-wal\) of the cluster of backup other/.test(noArchive.problem));
  });

  it("says what to do when there is no full backup or no WAL yet", () => {
    const lonely = planPointInTime(wal, at("2025-01-01T11:00:00Z"), [wal], methods);
    assert.ok("problem" in lonely && /has no full backup to replay its WAL onto/.test(lonely.problem));
    const fresh = backup("fresh", "archive-wal", "Running", ["2025-01-01T10:00:00Z"]);
    const empty = planPointInTime(fresh, at("2025-01-01T11:00:00Z"), [fresh, first], methods);
    assert.ok("problem" in empty && /has archived no WAL yet/.test(empty.problem));
  });
});

describe("restore times", () => {
  it("are RFC 3339, with a zone; anything else is refused saying how to write one", () => {
    assert.equal(parseRestoreTime("2025-01-02T15:04:05Z").toISOString(), "2025-01-02T15:04:05.000Z");
    assert.equal(parseRestoreTime("2025-01-02T17:04:05.250+02:00").toISOString(), "2025-01-02T15:04:05.250Z");
    assert.equal(parseRestoreTime("2025-01-02 15:04:05.123456Z").toISOString(), "2025-01-02T15:04:05.123Z");
    for (const bad of ["yesterday", "2025-01-02", "2025-01-02T15:04:05", "2025-13-02T15:04:05Z", "1735830245"]) {
      assert.throws(() => parseRestoreTime(bad), /is not an RFC 3339 time: write it like 2025-01-02T15:04:05Z/, bad);
    }
  });
});
