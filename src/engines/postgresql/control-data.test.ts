import { test } from "node:test";
import assert from "node:assert/strict";
import { parseControlData, receivedEverything } from "./control-data.ts";

const CLEAN = `pg_control version number:            1300
Catalog version number:               202307071
Database system identifier:           7391234567890123456
Database cluster state:               shut down
pg_control last modified:             Thu 01 Jan 2026 12:00:00 PM UTC
Latest checkpoint location:           0/3000060
Latest checkpoint's REDO location:    0/3000060
Latest checkpoint's REDO WAL file:    000000010000000000000003
Latest checkpoint's TimeLineID:       1
Latest checkpoint's PrevTimeLineID:   1
`;

test("pg_controldata output gives the state, the last checkpoint and its timeline", () => {
  assert.deepEqual(parseControlData(CLEAN), { state: "shut down", checkpointLocation: "0/3000060", timeline: 1 });
  assert.equal(parseControlData("Database cluster state: shut down\n"), undefined);
});

test("a standby has everything once it received past the clean shutdown checkpoint; after a crash nobody can tell", () => {
  const control = { state: "shut down", checkpointLocation: "0/3000060", timeline: 1 };
  assert.equal(receivedEverything(control, "0/30000D8"), true);
  assert.equal(receivedEverything(control, "0/3000060"), false, "only the record's start: not all of it");
  assert.equal(receivedEverything(control, undefined), false);
  assert.equal(receivedEverything({ ...control, state: "in production" }, "1/0"), false);
});
