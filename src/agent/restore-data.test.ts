import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { restoredFigures } from "./restore-data.ts";

describe("what the Restored condition says of the work", () => {
  it("gives the bytes read, the time, and the restore process's peak memory when it had one", () => {
    const read = { bytesDone: 825 * 1024 * 1024, totalBytes: 825 * 1024 * 1024, elapsedMs: 4100 };
    assert.equal(restoredFigures({ ...read, processPeakBytes: 231 * 1024 * 1024 + 300_000 }, "4.1s"), " (825.0 MiB read in 4.1s; restore process peak memory 231 MiB)");
    assert.equal(restoredFigures(read, "4.1s"), " (825.0 MiB read in 4.1s)");
    assert.equal(restoredFigures(undefined, "4.1s"), "");
  });
});
