import { test } from "node:test";
import assert from "node:assert/strict";
import { mariadbHasReceived, rankMariadbCandidates } from "./replication-capability.ts";
import { heldPosition, parsePositions, parseSlaveStatus, toReplicationObservation } from "./replication-status.ts";
import type { ReplicationObservation } from "../types.ts";

const slaveRecord = { Slave_IO_Running: "Yes", Slave_SQL_Running: "Yes", Master_Port: "19240", Gtid_IO_Pos: "0-1-12", Seconds_Behind_Master: "3", Last_IO_Errno: "0" };

void test("a replica: read-only, what it received and applied, the port it streams from, how far behind it says it is", () => {
  const positions = parsePositions(["1", "0-1-10", "0-1-10", ""]);
  assert.ok(positions !== undefined);
  const slave = parseSlaveStatus([slaveRecord]);
  const observation = toReplicationObservation({ positions, slave, replicas: [] });
  assert.deepEqual(observation, { role: "secondary", timeline: 0, received: "0-1-12", applied: "0-1-10", streamingFrom: 19240, behindMs: 3000, replicas: [] });
  const stopped = toReplicationObservation({ positions, slave: parseSlaveStatus([{ ...slaveRecord, Slave_IO_Running: "Connecting", Seconds_Behind_Master: "NULL" }]), replicas: [] });
  assert.equal(stopped.streamingFrom, undefined, "a replica still connecting does not stream");
  assert.equal(stopped.behindMs, undefined);
});

void test("a primary: writable, its position, the replicas connected by the names they report", () => {
  const positions = parsePositions(["0", "0-1-20", "", "0-1-20"]);
  assert.ok(positions !== undefined);
  const observation = toReplicationObservation({ positions, slave: undefined, replicas: ["m-1", "m-2"] });
  assert.equal(observation.role, "primary");
  assert.equal(observation.applied, "0-1-20");
  assert.deepEqual(observation.replicas.map((r) => [r.name, r.state]), [["m-1", "connected"], ["m-2", "connected"]]);
  assert.equal(parsePositions(["NULL"]), undefined);
  assert.equal(parseSlaveStatus([]), undefined);
});

void test("what a replica holds is the furthest of what it received and what it has, per domain", () => {
  const positions = { readOnly: true, currentPos: "0-1-10,1-2-4", slavePos: "", binlogPos: "" };
  assert.equal(heldPosition(positions, parseSlaveStatus([{ ...slaveRecord, Gtid_IO_Pos: "0-1-12" }])), "0-1-12,1-2-4");
  assert.equal(heldPosition(positions, undefined), "0-1-10,1-2-4");
});

const replica = (received: string, applied = received): ReplicationObservation => ({ role: "secondary", timeline: 0, received, applied, streamingFrom: undefined, replicas: [] });

void test("failover candidates: the one that received the most first, then applied, then by name; primaries left out", () => {
  const ranked = rankMariadbCandidates([
    { instanceName: "c", observation: replica("0-1-10") },
    { instanceName: "b", observation: replica("0-1-12", "0-1-9") },
    { instanceName: "a", observation: replica("0-1-12", "0-1-11") },
    { instanceName: "p", observation: { ...replica("0-1-30"), role: "primary" } },
    { instanceName: "d", observation: replica("0-1-10") },
  ]);
  assert.deepEqual(ranked, ["a", "b", "c", "d"]);
});

void test("a switchover target has received everything once its position contains the former primary's final one", () => {
  assert.ok(mariadbHasReceived("0-1-20", "0-1-20"));
  assert.ok(mariadbHasReceived("0-1-20", "0-1-20,1-3-2"));
  assert.ok(!mariadbHasReceived("0-1-20", "0-1-19"));
  assert.ok(!mariadbHasReceived("0-1-20", undefined));
  assert.ok(!mariadbHasReceived("0-1-20", "0-2-20"), "the same number written by another server is not it");
});
