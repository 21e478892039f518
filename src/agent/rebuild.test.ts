import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Instance } from "../api/index.ts";
import { mayBeStranded, rebuildBackup, rebuildBegun, rebuildDue, rebuildFinished, rebuildNotBegun } from "./rebuild.ts";

function instance(role: string, rebuild?: Instance["spec"]["rebuild"], status: Instance["status"] = {}): Instance {
  return {
    apiVersion: "holdfast.io/v1alpha1",
    kind: "Instance",
    metadata: { name: "pg-postgresql-1", namespace: "demo" },
    spec: { engine: "postgresql", version: "15.18", clusterName: "pg", componentName: "postgresql", ordinal: 1, port: 1001, running: true, role, parameters: {}, deleteData: true, ...(rebuild === undefined ? {} : { rebuild }) },
    status,
  };
}

const backup = { backupName: "b", backupNamespace: "demo" };

describe("rebuild of an instance, as its node agent sees it", () => {
  it("is due while asked and not Rebuilt for that request, never for the primary", () => {
    assert.equal(rebuildDue(instance("secondary")), false);
    assert.equal(rebuildDue(instance("secondary", { request: "a" })), true);
    assert.equal(rebuildDue(instance("primary", { request: "a" })), false);
    const done = instance("secondary", { request: "a" }, { rebuild: { request: "a", state: "Rebuilt", source: "s", startedAt: "t" } });
    assert.equal(rebuildDue(done), false);
    assert.equal(rebuildDue({ ...done, spec: { ...done.spec, rebuild: { request: "b" } } }), true, "a new request asks again");
  });

  it("removes the old data once per request, and records it before", () => {
    const asked = instance("secondary", { request: "a", backup });
    assert.equal(rebuildNotBegun(asked), true);
    const begun = { ...asked, status: rebuildBegun(asked, "backup demo/b") };
    assert.equal(begun.status.rebuild?.state, "Rebuilding");
    assert.equal(rebuildNotBegun(begun), false);
    assert.deepEqual(rebuildBackup(begun), backup);
    const finished = rebuildFinished(begun);
    assert.ok("rebuild" in finished && finished.rebuild?.state === "Rebuilt");
    assert.deepEqual(rebuildFinished(asked), {}, "nothing was removed: nothing rebuilt");
  });
});

describe("a replica that may be stranded (its log is then read)", () => {
  const started = "2026-12-06T19:00:00.000Z";
  const at = (seconds: number): number => Date.parse(started) + seconds * 1000;
  const replica = (state: NonNullable<Instance["status"]>["replicationState"]): Instance => {
    const base = instance("secondary", undefined, { startedAt: started, replicationState: state });
    return { ...base, spec: { ...base.spec, replication: { upstream: "pg-postgresql-0" } } };
  };

  it("a secondary not streaming for 30 s since its start, not one that streams, is connecting, or is the primary", () => {
    assert.equal(mayBeStranded(replica({ role: "secondary" }), at(31)), true);
    assert.equal(mayBeStranded(replica({ role: "secondary" }), at(10)), false, "still connecting");
    assert.equal(mayBeStranded(replica({ role: "secondary", streamingFrom: 5432 }), at(31)), false);
    const primary = replica({ role: "primary" });
    assert.equal(mayBeStranded({ ...primary, spec: { ...primary.spec, role: "primary" } }, at(31)), false);
  });
});
