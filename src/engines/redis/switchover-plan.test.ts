import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { InvalidError, UnavailableError } from "../../errors/index.ts";
import type { RedisReplicationInfo } from "./replication-info.ts";
import { caughtUp, chooseSwitchoverCandidate, instancesToExclude, sentinelCanPromote, sentinelSeesPriorities } from "./switchover-plan.ts";

function replica(masterPort: number, offset: number, linkUp = true): RedisReplicationInfo {
  return { role: "replica", replicationId: "r", offset, masterPort, linkUp, linkDownSeconds: undefined, syncInProgress: false, priority: 100 };
}

const others = [
  { port: 7102, info: replica(7101, 500) },
  { port: 7103, info: replica(7101, 900) },
  { port: 7104, info: replica(7101, 2000, false) },
  { port: 7105, info: undefined },
];

describe("chooseSwitchoverCandidate", () => {
  it("takes the named candidate when it streams from the master", () => {
    assert.equal(chooseSwitchoverCandidate(7101, others, 7102), 7102);
  });

  it("without one, takes the streaming replica with the most data", () => {
    assert.equal(chooseSwitchoverCandidate(7101, others), 7103);
  });

  it("refuses the master, strangers, and replicas that do not stream", () => {
    assert.throws(() => chooseSwitchoverCandidate(7101, others, 7101), InvalidError);
    assert.throws(() => chooseSwitchoverCandidate(7101, others, 7999), InvalidError);
    assert.throws(() => chooseSwitchoverCandidate(7101, others, 7104), UnavailableError);
    assert.throws(() => chooseSwitchoverCandidate(7101, others, 7105), UnavailableError);
    assert.throws(() => chooseSwitchoverCandidate(7101, [{ port: 7102, info: replica(7109, 1) }]), UnavailableError);
  });
});

describe("instancesToExclude", () => {
  it("is everyone but the master and the candidate", () => {
    assert.deepEqual(instancesToExclude([7101, 7102, 7103, 7104], 7101, 7103), [7102, 7104]);
  });
});

describe("sentinelSeesPriorities", () => {
  it("holds once the candidate is eligible and every known excluded replica has priority 0", () => {
    assert.equal(sentinelSeesPriorities(new Map([[7102, 0], [7103, 100]]), 7103, [7102, 7104]), true);
    assert.equal(sentinelSeesPriorities(new Map([[7102, 100], [7103, 100]]), 7103, [7102]), false);
    assert.equal(sentinelSeesPriorities(new Map([[7102, 0], [7103, 0]]), 7103, [7102]), false);
    assert.equal(sentinelSeesPriorities(new Map([[7102, 0]]), 7103, [7102]), false);
  });
});

describe("sentinelCanPromote", () => {
  const view = { host: "127.0.0.1", port: 7103, flags: ["slave"], masterLinkStatus: "ok", offset: 10, priority: 100 };
  it("accepts a connected replica whose link to the master is up", () => {
    assert.equal(sentinelCanPromote(view), true);
  });

  it("refuses one Sentinel sees down or disconnected, one whose link is down, and one it does not know", () => {
    assert.equal(sentinelCanPromote({ ...view, flags: ["slave", "disconnected"] }), false);
    assert.equal(sentinelCanPromote({ ...view, flags: ["s_down", "slave"] }), false);
    assert.equal(sentinelCanPromote({ ...view, masterLinkStatus: "err" }), false);
    assert.equal(sentinelCanPromote(undefined), false);
  });
});

describe("caughtUp", () => {
  it("keeps the candidates at or past the master's offset", () => {
    assert.deepEqual(caughtUp([7102, 7103, 7104], 900, new Map([[7102, 899], [7103, 900], [7104, undefined]])), [7103]);
  });
});
