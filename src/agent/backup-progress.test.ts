import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { finalProgress, progressOf } from "./backup-progress.ts";

describe("progress of a running backup", () => {
  it("shows bytes done and the rate", () => {
    const progress = progressOf({ plaintextBytes: 10, storedBytes: 4, chunks: 1, elapsedMs: 1000, plaintextBytesPerSecond: 10.4, stream: "base.tar" }, "t");
    assert.deepEqual(progress, { bytesDone: 10, storedBytes: 4, bytesPerSecond: 10, updatedAt: "t" });
  });

  it("with the method's size estimate, shows the time left, and none once past the estimate or done", () => {
    const run = { plaintextBytes: 40, storedBytes: 20, chunks: 4, elapsedMs: 4000, plaintextBytesPerSecond: 10, stream: "base.tar" };
    assert.deepEqual(progressOf(run, "t", 100), { bytesDone: 40, storedBytes: 20, bytesPerSecond: 10, estimatedTotalBytes: 100, etaSeconds: 6, updatedAt: "t" });
    assert.equal(progressOf({ ...run, plaintextBytes: 120 }, "t", 100).etaSeconds, undefined);
    const done = finalProgress(progressOf(run, "t", 100), { plaintextBytes: 1000, storedBytes: 400 }, "u");
    assert.deepEqual([done.bytesDone, done.storedBytes, done.estimatedTotalBytes, done.etaSeconds, done.updatedAt], [1000, 400, 100, undefined, "u"]);
  });
});
