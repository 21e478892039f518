import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Instance } from "../api/index.ts";
import type { ReplicationObservation } from "../engines/index.ts";
import { LAG_REFRESH_MS, observationOf, observedSince, probedState, stateWorthWriting } from "./replication-state.ts";

const NOW = Date.parse("2026-12-05T12:00:00.000Z");
const secondary: ReplicationObservation = { role: "secondary", timeline: 2, received: "0/3000100", applied: "0/3000100", streamingFrom: 20000, replicas: [] };
const primary: ReplicationObservation = { role: "primary", timeline: 2, received: "0/3000100", applied: "0/3000100", streamingFrom: undefined, replicas: [{ name: "pg_postgresql_1", state: "streaming", lagBytes: 0, lagMs: 0.4 }] };

describe("probedState / observationOf", () => {
  it("round-trips what a probe saw", () => {
    assert.deepEqual(observationOf(probedState(undefined, secondary, NOW)), secondary);
    assert.deepEqual(observationOf(probedState(undefined, primary, NOW)), primary);
  });

  it("counts probes in a row without an answer, and forgets them with the next answer", () => {
    const once = probedState(probedState(undefined, secondary, NOW), undefined, NOW);
    const twice = probedState(once, undefined, NOW);
    assert.equal(twice.failures, 2);
    assert.equal(observationOf(twice), undefined);
    assert.equal(probedState(twice, secondary, NOW).failures, undefined);
  });

  it("keeps reporting a checkpoint done for a switchover across later probes, answered or not", () => {
    const checkpointed = { ...probedState(undefined, primary, NOW), checkpointed: "2026-12-05T11:59:59.000Z" };
    assert.equal(probedState(checkpointed, primary, NOW + 1000).checkpointed, checkpointed.checkpointed);
    assert.equal(probedState(checkpointed, undefined, NOW + 1000).checkpointed, checkpointed.checkpointed);
  });
});

describe("stateWorthWriting", () => {
  const written = probedState(undefined, secondary, NOW);

  it("writes a change of role, upstream or answer at once", () => {
    assert.equal(stateWorthWriting(written, probedState(written, { ...secondary, streamingFrom: undefined }, NOW + 10), NOW + 10, undefined), true);
    assert.equal(stateWorthWriting(written, probedState(written, { ...secondary, role: "primary" }, NOW + 10), NOW + 10, undefined), true);
    assert.equal(stateWorthWriting(written, probedState(written, undefined, NOW + 10), NOW + 10, undefined), true);
  });

  it("writes moving positions only every LAG_REFRESH_MS, and nothing when nothing moved", () => {
    const moved = { ...secondary, received: "0/3000200" };
    assert.equal(stateWorthWriting(written, probedState(written, secondary, NOW + 10), NOW + 10, undefined), false);
    assert.equal(stateWorthWriting(written, probedState(written, moved, NOW + 10), NOW + 10, undefined), false);
    assert.equal(stateWorthWriting(written, probedState(written, moved, NOW + LAG_REFRESH_MS), NOW + LAG_REFRESH_MS, undefined), true);
  });

  it("a role change asking for a probe after a time gets one, and then every moving position", () => {
    const after = new Date(NOW + 5).toISOString();
    assert.equal(stateWorthWriting(written, probedState(written, secondary, NOW + 10), NOW + 10, after), true, "older than asked: written though unchanged");
    const fresh = probedState(written, secondary, NOW + 10);
    assert.equal(stateWorthWriting(fresh, probedState(fresh, { ...secondary, received: "0/3000200" }, NOW + 20), NOW + 20, after), true);
    assert.equal(stateWorthWriting(fresh, probedState(fresh, secondary, NOW + 20), NOW + 20, after), false);
  });
});

describe("observedSince", () => {
  const instance = (observedAt: string | undefined): Instance => ({
    apiVersion: "holdfast.io/v1alpha1",
    kind: "Instance",
    metadata: { name: "pg-postgresql-1" },
    spec: { engine: "postgresql", version: "16", clusterName: "pg", componentName: "postgresql", ordinal: 1, port: 20001, running: true, parameters: {}, deleteData: true },
    status: observedAt === undefined ? {} : { replicationState: { observedAt } },
  });

  it("is a report taken at or after the time asked", () => {
    const at = new Date(NOW).toISOString();
    assert.equal(observedSince(instance(at), at), true);
    assert.equal(observedSince(instance(new Date(NOW - 1).toISOString()), at), false);
    assert.equal(observedSince(instance(undefined), at), false);
    assert.equal(observedSince(instance(at), undefined), false);
  });
});
