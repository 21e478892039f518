import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { InstanceStorageStatus } from "../api/index.ts";
import { decideStorage, type StorageMeasurement } from "./storage-plan.ts";

const MI = 2 ** 20;
const START = "2026-12-06T18:00:00.000Z";
const at = (seconds: number): string => new Date(Date.parse(START) + seconds * 1000).toISOString();
const measure = (usedMi: number, quotaMi: number | undefined, seconds = 10): StorageMeasurement => ({ usedBytes: usedMi * MI, freeBytes: 10_000 * MI, quotaBytes: quotaMi === undefined ? undefined : quotaMi * MI, at: at(seconds) });

describe("decideStorage", () => {
  it("reports the first measurement, with no protection and no event below 90%", () => {
    const d = decideStorage(undefined, measure(50, 100), START, true);
    assert.equal(d.write, true);
    assert.equal(d.protect, undefined);
    assert.deepEqual(d.events, []);
    assert.equal(d.status.level, "Ok");
  });

  it("warns at 90%, then refuses writes at 100% with a Warning event", () => {
    const ok = decideStorage(undefined, measure(50, 100), START, true).status;
    const nearly = decideStorage(ok, measure(91, 100), START, true);
    assert.equal(nearly.events[0]?.reason, "StorageNearlyFull");
    assert.equal(nearly.events[0].type, "Warning");
    assert.equal(nearly.protect, undefined);
    const full = decideStorage(nearly.status, measure(100, 100), START, true);
    assert.equal(full.protect, true);
    assert.equal(full.status.writesRefusedFor, START);
    assert.deepEqual(full.events.map((e) => e.reason), ["StorageFull"]);
    assert.match(full.events[0]?.message ?? "", /100Mi of its 100Mi quota \(100%\); writes that would grow the data are refused/);
  });

  it("a jump from below 90% to the quota says nearly full first, then full", () => {
    const jump = decideStorage(undefined, measure(130, 100), START, true);
    assert.deepEqual(jump.events.map((e) => `${e.type} ${e.reason}`), ["Warning StorageNearlyFull", "Warning StorageFull"]);
  });

  it("does not protect again while the same process is protected, and again after a restart", () => {
    const full = decideStorage(undefined, measure(120, 100), START, true).status;
    assert.equal(decideStorage(full, measure(121, 100, 20), START, true).protect, undefined);
    assert.equal(decideStorage(full, measure(121, 100, 20), at(15), true).protect, true);
  });

  it("allows writes again below the quota, or when the quota is raised, with a Normal event", () => {
    const full = decideStorage(undefined, measure(120, 100), START, true).status;
    const raised = decideStorage(full, measure(120, 200), START, true);
    assert.equal(raised.protect, false);
    assert.equal(raised.status.writesRefusedFor, undefined);
    assert.equal(raised.status.level, "Ok");
    assert.equal(raised.events[0]?.type, "Normal");
    assert.match(raised.events[0].message, /writes allowed again/);
    const deleted = decideStorage(full, measure(95, 100), START, true);
    assert.equal(deleted.protect, false);
    assert.equal(deleted.events[0]?.reason, "StorageBelowQuota");
  });

  it("says so when the engine cannot protect writes, and never asks it to", () => {
    const full = decideStorage(undefined, measure(120, 100), START, false);
    assert.equal(full.protect, undefined);
    assert.equal(full.status.level, "Full");
    assert.match(full.events[1]?.message ?? "", /cannot refuse writes/);
  });

  it("skips a write for a small change and writes a large one or an old one", () => {
    const first = decideStorage(undefined, measure(50, 1000), START, true).status;
    assert.equal(decideStorage(first, measure(51, 1000, 12), START, true).write, false);
    assert.equal(decideStorage(first, measure(61, 1000, 12), START, true).write, true);
    assert.equal(decideStorage(first, measure(50, 1000, 75), START, true).write, true);
  });

  it("has no level without a quota", () => {
    const previous: InstanceStorageStatus = { usedBytes: 0, freeBytes: 0, level: "Ok", measuredAt: START };
    assert.equal(decideStorage(previous, measure(5000, undefined), START, true).status.level, "Ok");
  });
});
