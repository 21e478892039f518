import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { setImmediate as tick } from "node:timers/promises";
import { AuditListeners, MAX_UNTOLD } from "./listeners.ts";
import type { AuditEventRecord } from "./record.ts";

function record(id: number): AuditEventRecord {
  return { auditID: `id-${id}` } as AuditEventRecord;
}

describe("audit listeners", () => {
  it("tell nothing inside the call, then everything in order on a later turn, failures included", async () => {
    const listeners = new AuditListeners();
    const told: string[] = [];
    listeners.add((r, failure) => told.push(r?.auditID ?? `failure: ${failure?.message ?? ""}`));
    listeners.add(() => {
      throw new Error("a broken listener stops no other");
    });
    listeners.tell(record(1));
    listeners.tell(record(2));
    listeners.tell(undefined, new Error("disk full"));
    assert.deepEqual(told, []);
    await tick();
    assert.deepEqual(told, ["id-1", "id-2", "failure: disk full"]);
  });

  it("keep at most MAX_UNTOLD events waiting, dropping the oldest, and nothing when no one listens", async () => {
    const listeners = new AuditListeners();
    listeners.tell(record(0));
    const told: string[] = [];
    const stop = listeners.add((r) => r && told.push(r.auditID));
    for (let i = 1; i <= MAX_UNTOLD + 5; i++) listeners.tell(record(i));
    await tick();
    assert.equal(told.length, MAX_UNTOLD);
    assert.equal(told[0], "id-6");
    assert.equal(listeners.dropped, 5);
    stop();
    listeners.tell(record(99));
    await tick();
    assert.equal(told.length, MAX_UNTOLD);
  });
});
