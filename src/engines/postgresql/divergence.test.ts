import { test } from "node:test";
import assert from "node:assert/strict";
import { divergedFromHistory, switchpointOf, walRemovedUpstream } from "./divergence.ts";

const HISTORY_3 = "1\t0/545FFD0\tno recovery target specified\n\n2\t0/9000148\tno recovery target specified\n";

test("the switchpoint of each parent timeline is read from a history file", () => {
  assert.equal(switchpointOf(HISTORY_3, 1), "0/545FFD0");
  assert.equal(switchpointOf(HISTORY_3, 2), "0/9000148");
  assert.equal(switchpointOf(HISTORY_3, 3), undefined);
  assert.equal(switchpointOf("# a comment\n1\t0/3000000\treason\n", 1), "0/3000000");
});

test("a standby past the point where its timeline forked off has diverged", () => {
  assert.equal(divergedFromHistory({ timeline: 1, position: "0/7E59670", history: HISTORY_3 }), true);
});

test("a standby at or before the fork can follow the new timeline", () => {
  assert.equal(divergedFromHistory({ timeline: 1, position: "0/545FFD0", history: HISTORY_3 }), false);
  assert.equal(divergedFromHistory({ timeline: 1, position: "0/5000000", history: HISTORY_3 }), false);
});

test("no history file, no position, or a history that does not end its timeline: not diverged", () => {
  assert.equal(divergedFromHistory({ timeline: 1, position: "0/7E59670", history: null }), false);
  assert.equal(divergedFromHistory({ timeline: 1, position: null, history: HISTORY_3 }), false);
  assert.equal(divergedFromHistory({ timeline: 3, position: "0/FFFFFFF", history: HISTORY_3 }), false);
});

test("a standby whose primary removed the WAL it needs is told apart from one that only reconnects", () => {
  const stuck = `2026-12-06 19:00:01 UTC [812] LOG:  started streaming WAL from primary at 0/5000000 on timeline 1
2026-12-06 19:00:01 UTC [812] FATAL:  could not receive data from WAL stream: ERROR:  requested WAL segment 000000010000000000000005 has already been removed`;
  assert.match(walRemovedUpstream(stuck) ?? "", /no longer has WAL segment 000000010000000000000005/);
  assert.equal(walRemovedUpstream("FATAL:  could not connect to the primary server: connection refused"), undefined);
});
