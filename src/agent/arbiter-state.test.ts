import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Instance } from "../api/index.ts";
import { ARBITER_REFRESH_MS, arbiterStateOf, arbiterStateWorthWriting, requestStep } from "./arbiter-state.ts";

const NOW = Date.parse("2026-01-01T12:00:00Z");
const observation = { primary: "r-redis-0", primaryAddress: "127.0.0.1:7000", epoch: 2, quorum: true, departed: [] };

describe("arbiterStateOf", () => {
  it("reports what the arbiter said, and counts questions it did not answer", () => {
    assert.deepEqual(arbiterStateOf(undefined, observation, NOW), { primary: "r-redis-0", primaryAddress: "127.0.0.1:7000", epoch: 2, quorum: true, observedAt: new Date(NOW).toISOString() });
    const silent = arbiterStateOf(arbiterStateOf(undefined, undefined, NOW), undefined, NOW);
    assert.deepEqual(silent, { failures: 2, observedAt: new Date(NOW).toISOString() }, "no primary is reported for an arbiter that did not answer");
    assert.deepEqual(arbiterStateOf(silent, { ...observation, departed: ["127.0.0.1:7002"] }, NOW).departed, ["127.0.0.1:7002"]);
  });
});

describe("arbiterStateWorthWriting", () => {
  it("writes a change at once and the same word again only when a refresh is due", () => {
    const current = arbiterStateOf(undefined, observation, NOW);
    assert.equal(arbiterStateWorthWriting(undefined, current, NOW), true);
    assert.equal(arbiterStateWorthWriting(current, arbiterStateOf(current, observation, NOW + 1000), NOW + 1000), false);
    assert.equal(arbiterStateWorthWriting(current, arbiterStateOf(current, { ...observation, primary: "r-redis-1" }, NOW + 1000), NOW + 1000), true);
    assert.equal(arbiterStateWorthWriting(current, arbiterStateOf(current, undefined, NOW + 1000), NOW + 1000), true);
    assert.equal(arbiterStateWorthWriting(current, arbiterStateOf(current, observation, NOW + ARBITER_REFRESH_MS), NOW + ARBITER_REFRESH_MS), true);
  });
});

describe("requestStep", () => {
  const request = { id: "switchover:a>b@t", action: "Switchover" as const, from: "a", candidate: "b", requestedAt: "t" };
  const instance = (status: Instance["status"], withRequest = true): Instance => ({
    apiVersion: "holdfast.io/v1alpha1",
    kind: "Instance",
    metadata: { name: "r-sentinel-0" },
    spec: { engine: "redis", version: "7", clusterName: "r", componentName: "redis-sentinel", ordinal: 0, port: 1, running: true, parameters: {}, deleteData: true, ...(withRequest ? { arbiterRequest: request } : {}) },
    status,
  });

  it("starts a new request once, and never runs one twice", () => {
    assert.deepEqual(requestStep(instance({}), false), { kind: "start", request });
    assert.deepEqual(requestStep(instance({}, false), false), { kind: "none" });
    assert.deepEqual(requestStep(instance({ arbiterRequest: { id: request.id, result: "Succeeded", startedAt: "t" } }), false), { kind: "none" });
    assert.deepEqual(requestStep(instance({ arbiterRequest: { id: "older", result: "Succeeded", startedAt: "t" } }), false), { kind: "start", request });
    assert.deepEqual(requestStep(instance({}), true), { kind: "running" });
  });

  it("reports a request under way that no job of this agent runs as interrupted (the agent restarted)", () => {
    assert.deepEqual(requestStep(instance({ arbiterRequest: { id: request.id, result: "InProgress", startedAt: "t" } }), false), { kind: "interrupted", request });
  });
});
