import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { LeaseObservations } from "./etcd-leases.ts";

describe("lease observations", () => {
  it("measures how long a key stayed at one revision, by the observer's own clock", () => {
    let clock = 1000;
    const observed = new LeaseObservations(() => clock);
    observed.note("k", 7);
    clock += 400;
    assert.equal(observed.unchangedFor("k", { modRevision: 7 }), 400);
    observed.note("k", 7); // read again, unchanged: the first sighting counts
    clock += 100;
    assert.equal(observed.unchangedFor("k", { modRevision: 7 }), 500);
    observed.note("k", 9); // renewed
    assert.equal(observed.unchangedFor("k", { modRevision: 9 }), 0);
    assert.equal(observed.unchangedFor("k", { modRevision: 7 }), 0, "a revision no longer current is not unchanged");
  });

  it("never goes back to an older revision (a late watch event after a fresher read)", () => {
    let clock = 0;
    const observed = new LeaseObservations(() => clock);
    observed.note("k", 12);
    clock += 300;
    observed.note("k", 11);
    assert.equal(observed.unchangedFor("k", { modRevision: 12 }), 300);
  });

  it("counts a key it has not seen, or seen removed, as just changed; a restart makes every key just changed", () => {
    let clock = 0;
    const observed = new LeaseObservations(() => clock);
    assert.equal(observed.unchangedFor("k", { modRevision: 3 }), 0);
    observed.note("k", 3);
    clock += 1000;
    observed.note("k", undefined);
    assert.equal(observed.unchangedFor("k", { modRevision: 3 }), 0);
    observed.note("j", 4);
    clock += 2000;
    observed.restart();
    assert.equal(observed.unchangedFor("j", { modRevision: 4 }), 0);
    clock += 10;
    assert.equal(observed.unchangedFor("j", { modRevision: 4 }), 10);
  });
});
