import { test } from "node:test";
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { RestoreMeter, type RestoreProgressReport } from "./restore-meter.ts";

/** A backup of one stream of `chunks` chunks of 1 KiB, each handed out after `delayMs`. */
function source(chunks: number, delayMs = 0): { streams: { plaintextBytes: number }[]; openStream: () => Readable; destroyed: () => boolean } {
  let inner: Readable | undefined;
  async function* data(): AsyncGenerator<Buffer> {
    for (let i = 0; i < chunks; i++) {
      if (delayMs > 0) await sleep(delayMs);
      yield Buffer.alloc(1024, i);
    }
  }
  return {
    streams: [{ plaintextBytes: chunks * 1024 }],
    openStream: () => (inner = Readable.from(data(), { objectMode: false })),
    destroyed: () => inner?.destroyed === true,
  };
}

async function drain(stream: Readable): Promise<number> {
  let bytes = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) bytes += chunk.length;
  return bytes;
}

test("every byte handed to the engine is counted against the manifest's total", async () => {
  const reports: RestoreProgressReport[] = [];
  const meter = new RestoreMeter({ onProgress: (report) => reports.push(report) });
  const tracked = meter.track(source(5));
  assert.equal(meter.snapshot().totalBytes, 5120);
  assert.equal(await drain(tracked.openStream("base.tar")), 5120);
  assert.equal(meter.snapshot().bytesDone, 5120);
  assert.deepEqual(reports.map((r) => r.bytesDone), [0, 1024, 2048, 3072, 4096, 5120]);
});

test("an abort destroys the stream being read, and the backup's own stream with it", async () => {
  const abort = new AbortController();
  const meter = new RestoreMeter({ signal: abort.signal });
  const backup = source(1000, 5);
  const reading = drain(meter.track(backup).openStream("base.tar"));
  await sleep(30);
  abort.abort();
  await assert.rejects(reading, { name: "AbortError" });
  await sleep(10);
  assert.ok(backup.destroyed(), "the backup's stream is destroyed too");
  assert.ok(meter.snapshot().bytesDone < 1000 * 1024);
  await assert.rejects(drain(meter.track(source(1)).openStream("next")), { name: "AbortError" }, "a stream opened after the abort fails at once");
});
