import { test } from "node:test";
import assert from "node:assert/strict";
import { bytesPerSecond, describeTransfer, formatSeconds, percentDone, secondsLeft } from "./transfer-estimate.ts";

test("the time left is what remains at the rate so far, rounded up", () => {
  assert.equal(secondsLeft({ bytesDone: 100, totalBytes: 1000, bytesPerSecond: 100 }, 1000), 9);
  assert.equal(secondsLeft({ bytesDone: 999, totalBytes: 1000, bytesPerSecond: 100 }, 5000), 1);
  assert.equal(secondsLeft({ bytesDone: 1000, totalBytes: 1000, bytesPerSecond: 100 }, 5000), 0);
});

test("no time left is claimed without a total, without a rate, in the first half second, or past an estimate", () => {
  assert.equal(secondsLeft({ bytesDone: 100, bytesPerSecond: 100 }, 5000), undefined);
  assert.equal(secondsLeft({ bytesDone: 0, totalBytes: 1000, bytesPerSecond: 0 }, 5000), undefined);
  assert.equal(secondsLeft({ bytesDone: 100, totalBytes: 1000, bytesPerSecond: 100 }, 499), undefined);
  assert.equal(secondsLeft({ bytesDone: 1200, totalBytes: 1000, bytesPerSecond: 100 }, 5000), undefined);
});

test("rate and share done", () => {
  assert.equal(bytesPerSecond(3000, 1500), 2000);
  assert.equal(bytesPerSecond(3000, 0), 0);
  assert.equal(percentDone(399, 1000), 39);
  assert.equal(percentDone(1500, 1000), 100);
  assert.equal(percentDone(5, undefined), undefined);
});

test("durations and the one-line summary", () => {
  assert.deepEqual([0, 59, 60, 65, 3599, 3600, 7380].map(formatSeconds), ["0s", "59s", "1m00s", "1m05s", "59m59s", "1h00m", "2h03m"]);
  assert.equal(describeTransfer({ bytesDone: 512, bytesPerSecond: 0 }), "512 B");
  assert.equal(describeTransfer({ bytesDone: 1536, totalBytes: 3072, bytesPerSecond: 1024, etaSeconds: 2 }), "1.5 KiB of 3.0 KiB (50%), 1.0 KiB/s, about 2s left");
});
