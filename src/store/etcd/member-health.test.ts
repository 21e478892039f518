import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { MemberHealth, MemberUnreachableError } from "./member-health.ts";

const FAST = { intervalMs: 10, timeoutMs: 30 };

describe("MemberHealth", () => {
  it("aborts the open work of a member whose probe does not answer in time, and says which member", async () => {
    const silent = new Set([1]);
    const unreachable: number[] = [];
    const health = new MemberHealth(
      async (index, signal) => {
        if (silent.has(index)) await sleep(10_000, undefined, { signal });
      },
      (index) => unreachable.push(index),
      FAST,
    );
    try {
      const onSilent = health.track(1);
      const onHealthy = health.track(0);
      const finished = health.track(1);
      finished.done();
      // The probe gives up after 30 ms; on a loaded machine the timers fire late, so wait for it (up to 5 s).
      for (let waited = 0; !onSilent.signal.aborted && waited < 5_000; waited += 10) await sleep(10);
      assert.ok(onSilent.signal.aborted);
      assert.ok(onSilent.signal.reason instanceof MemberUnreachableError);
      assert.match(onSilent.signal.reason.message, /did not answer its health probe within 30 ms/);
      assert.equal(onHealthy.signal.aborted, false);
      assert.equal(finished.signal.aborted, false);
      assert.deepEqual([...new Set(unreachable)], [1]);
      onHealthy.done();
    } finally {
      health.stop();
    }
  });

  it("probes nobody while no work is open", async () => {
    let probes = 0;
    const health = new MemberHealth(
      () => {
        probes++;
        return Promise.resolve();
      },
      () => undefined,
      FAST,
    );
    health.track(0).done();
    await sleep(50);
    const afterIdle = probes;
    await sleep(50);
    assert.equal(probes, afterIdle, "the timer stops once no work is open");
    health.stop();
  });
});
