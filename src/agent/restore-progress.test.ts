import { test } from "node:test";
import assert from "node:assert/strict";
import { restoreProgressOf, restoringMessage } from "./restore-progress.ts";

const MiB = 1024 * 1024;

test("a restore under way reports its rate and the time left from the manifest's total", () => {
  const progress = restoreProgressOf("demo/b", "t0", { bytesDone: 120 * MiB, totalBytes: 300 * MiB, elapsedMs: 4000 }, "t1");
  assert.deepEqual(progress, { backup: "demo/b", bytesDone: 120 * MiB, totalBytes: 300 * MiB, bytesPerSecond: 30 * MiB, etaSeconds: 6, startedAt: "t0", updatedAt: "t1" });
  assert.equal(restoringMessage(progress), "restoring from backup demo/b: 120.0 MiB of 300.0 MiB (40%), 30.0 MiB/s, about 6s left");
});

test("before the manifest is open nothing is claimed: no total, no rate, no time left", () => {
  const none = restoreProgressOf("demo/b", "t0", undefined, "t1");
  assert.deepEqual(none, { backup: "demo/b", bytesDone: 0, bytesPerSecond: 0, startedAt: "t0", updatedAt: "t1" });
  assert.equal(restoringMessage(none), "restoring from backup demo/b");
  const opened = restoreProgressOf("demo/b", "t0", { bytesDone: 0, totalBytes: 0, elapsedMs: 10 }, "t1");
  assert.equal(opened.totalBytes, undefined);
});

test("the first moments give a rate but no time left; all read gives 100% and none left", () => {
  const early = restoreProgressOf("demo/b", "t0", { bytesDone: MiB, totalBytes: 100 * MiB, elapsedMs: 250 }, "t1");
  assert.equal(early.etaSeconds, undefined);
  assert.equal(early.bytesPerSecond, 4 * MiB);
  const done = restoreProgressOf("demo/b", "t0", { bytesDone: 100 * MiB, totalBytes: 100 * MiB, elapsedMs: 10_000 }, "t1");
  assert.equal(done.etaSeconds, 0);
  assert.match(restoringMessage(done), /\(100%\)/);
});
