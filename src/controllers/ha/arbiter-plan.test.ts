import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Instance } from "../../api/index.ts";
import { arbiterFailover, arbitratedSpecDiffers, arbitratedSpecs, followArbiters, releasable, requestedSwitchover } from "./arbiter-plan.ts";
import type { Member } from "./plan.ts";

const NOW = Date.parse("2026-01-01T12:00:00Z");

function member(ordinal: number, spec: Partial<Instance["spec"]> = {}, status: Instance["status"] = {}): Member {
  const name = `r-redis-${ordinal}`;
  const instance: Instance = {
    apiVersion: "holdfast.io/v1alpha1",
    kind: "Instance",
    metadata: { name, namespace: "demo" },
    spec: { engine: "redis", version: "7.0.15", clusterName: "r", componentName: "redis", ordinal, port: 20000 + ordinal, running: true, parameters: {}, deleteData: true, replication: {}, ...spec },
    status,
  };
  return { name, instance, observation: undefined, failures: 0 };
}

describe("followArbiters", () => {
  it("initialises the record with the arbiters' master, else the member created as primary", () => {
    assert.deepEqual(followArbiters(undefined, "r-redis-1", "r-redis-0"), { kind: "initialise", primary: "r-redis-1" });
    assert.deepEqual(followArbiters(undefined, undefined, "r-redis-0"), { kind: "initialise", primary: "r-redis-0" });
  });

  it("follows a master a majority names, and keeps the record without a majority", () => {
    const record = { currentPrimary: "r-redis-0", targetPrimary: "r-redis-0" };
    assert.deepEqual(followArbiters(record, "r-redis-1", "r-redis-0"), { kind: "followArbiters", from: "r-redis-0", primary: "r-redis-1" });
    assert.deepEqual(followArbiters(record, "r-redis-0", "r-redis-0"), { kind: "none", primary: "r-redis-0" });
    assert.deepEqual(followArbiters(record, undefined, "r-redis-0"), { kind: "none", primary: "r-redis-0" });
  });
});

describe("requestedSwitchover", () => {
  it("is the record's target while it differs from the current primary", () => {
    assert.deepEqual(requestedSwitchover({ currentPrimary: "a", targetPrimary: "b" }), { from: "a", to: "b" });
    assert.equal(requestedSwitchover({ currentPrimary: "a", targetPrimary: "a" }), undefined);
    assert.equal(requestedSwitchover({ targetPrimary: "b" }), undefined);
    assert.equal(requestedSwitchover(undefined), undefined);
  });
});

describe("arbitratedSpecs", () => {
  it("makes the primary fence itself on exit when it has replicas, the others its replicas, and keeps fences", () => {
    const specs = arbitratedSpecs([member(0, { replication: { fenced: true } }), member(1)], "r-redis-1");
    assert.deepEqual(specs, [
      { name: "r-redis-0", role: "secondary", replication: { upstream: "r-redis-1", fenced: true } },
      { name: "r-redis-1", role: "primary", replication: { fenceOnExit: true } },
    ]);
    assert.deepEqual(arbitratedSpecs([member(0)], "r-redis-0"), [{ name: "r-redis-0", role: "primary", replication: {} }]);
  });

  it("tells when a spec must be written", () => {
    const [desired] = arbitratedSpecs([member(0), member(1)], "r-redis-0");
    assert.ok(desired);
    assert.equal(arbitratedSpecDiffers(member(0, { role: "primary", replication: { fenceOnExit: true } }).instance, desired), false);
    assert.equal(arbitratedSpecDiffers(member(0, { role: "secondary", replication: { upstream: "r-redis-1" } }).instance, desired), true);
  });
});

describe("releasable", () => {
  const stoppedAt = new Date(NOW - 1000).toISOString();
  const fenced = member(0, { replication: { fenced: true } }, { lastTerminatedAt: stoppedAt });

  it("releases a fenced member as soon as the arbiters name another primary", () => {
    assert.equal(releasable(fenced, "r-redis-1", 12_000, NOW), true);
  });

  it("keeps it fenced while they still name it, until their failover window has passed", () => {
    assert.equal(releasable(fenced, "r-redis-0", 12_000, NOW), false);
    assert.equal(releasable(fenced, undefined, 12_000, NOW), false);
    assert.equal(releasable(fenced, "r-redis-0", 12_000, NOW + 11_000), true);
  });

  it("leaves unfenced members and members meant to be stopped alone", () => {
    assert.equal(releasable(member(1), "r-redis-0", 12_000, NOW), false);
    assert.equal(releasable(member(0, { running: false, replication: { fenced: true } }), "r-redis-1", 12_000, NOW), false);
  });
});

describe("arbiterFailover", () => {
  it("records the arbiters' promotion as a finished failover", () => {
    const change = arbiterFailover("r-redis-0", "r-redis-1", 3, "2026-01-01T12:00:00Z");
    assert.equal(change.reason, "Failover");
    assert.equal(change.result, "Succeeded");
    assert.match(change.message ?? "", /majority of the 3 arbiters promoted r-redis-1 in place of r-redis-0/);
  });
});
