// The data-directory archive's session: pg_backup_start begun before the archive asks for it.
import assert from "node:assert/strict";
import { test } from "node:test";
import { withStartBegun, type DatadirSession, type Started } from "./datadir-job.ts";

const STARTED: Started = { startLsn: "0/2000028", timeline: 1, checkpointMs: 5, startedAt: 1_700_000_000_000 };
const STOPPED = { lsn: "0/2000100", labelfile: "label", spcmapfile: null };

test("withStartBegun begins the start at once, answers every ask with that one start, and leaves stop to the ask", async () => {
  const calls: string[] = [];
  const session: DatadirSession = {
    start: () => (calls.push("start"), Promise.resolve(STARTED)),
    stop: () => (calls.push("stop"), Promise.resolve(STOPPED)),
  };
  const begun = withStartBegun(session);
  assert.deepEqual(calls, ["start"], "the start is under way before the archive asks");
  assert.deepEqual(await begun.start(), STARTED);
  assert.deepEqual(await begun.start(), STARTED);
  assert.deepEqual(calls, ["start"], "asked twice, begun once");
  assert.deepEqual(await begun.stop(), STOPPED);
  assert.deepEqual(calls, ["start", "stop"]);
});

test("a start that fails before anyone asks is not an unhandled rejection; the ask gets its error", async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  process.on("unhandledRejection", onUnhandled);
  try {
    const begun = withStartBegun({ start: () => Promise.reject(new Error("checkpoint failed")), stop: () => Promise.resolve(STOPPED) });
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(unhandled, []);
    await assert.rejects(begun.start(), /checkpoint failed/);
  } finally {
    process.off("unhandledRejection", onUnhandled);
  }
});
