import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  age,
  allowed,
  applyWatchEvent,
  auditOf,
  clusterManifest,
  clusterRow,
  fieldErrors,
  formFieldOf,
  instanceRows,
  opsManifest,
  opsProgress,
  parseWatchChunk,
  sortedRows,
  type ClusterObject,
} from "./web/model.ts";

const cluster: ClusterObject = {
  metadata: { name: "cache", namespace: "demo", creationTimestamp: "2026-12-06T10:00:00Z" },
  spec: { clusterDef: "redis", topology: "replication", componentSpecs: [{ name: "redis", replicas: 2 }, { name: "redis-sentinel", replicas: 3 }] },
  status: { phase: "Running" },
};

describe("the console's model", () => {
  it("splits a watch stream into whole events and keeps the unfinished line", () => {
    const first = parseWatchChunk('{"type":"ADDED","object":{"metadata":{"name":"a"}}}\n{"type":"MODI');
    assert.equal(first.events.length, 1);
    assert.equal(first.rest, '{"type":"MODI');
    const second = parseWatchChunk(`${first.rest}FIED","object":{"metadata":{"name":"a"}}}\n`);
    assert.equal(second.events[0]?.type, "MODIFIED");
    assert.equal(second.rest, "");
  });

  it("applies ADDED, MODIFIED and DELETED by namespace/name and ignores bookmarks", () => {
    const objects = new Map<string, ClusterObject>();
    assert.ok(applyWatchEvent(objects, { type: "ADDED", object: cluster }));
    assert.ok(applyWatchEvent(objects, { type: "MODIFIED", object: { ...cluster, status: { phase: "Updating" } } }));
    assert.equal(objects.get("demo/cache")?.status?.phase, "Updating");
    assert.equal(applyWatchEvent(objects, { type: "BOOKMARK", object: cluster }), false);
    assert.ok(applyWatchEvent(objects, { type: "DELETED", object: cluster }));
    assert.equal(objects.size, 0);
  });

  it("shows a cluster as a row, sorted by namespace then name", () => {
    const row = clusterRow(cluster);
    assert.deepEqual([row.engine, row.topology, row.replicas, row.phase], ["redis", "replication", "redis×2, redis-sentinel×3", "Running"]);
    const rows = sortedRows([
      { namespace: "b", name: "a" },
      { namespace: "a", name: "z" },
      { namespace: "a", name: "b" },
    ]);
    assert.deepEqual(rows.map((r) => `${r.namespace}/${r.name}`), ["a/b", "a/z", "b/a"]);
    assert.equal(clusterRow({ metadata: { name: "new" } }).phase, "Pending");
  });

  it("lists only the cluster's instances, with the role the node agent observed", () => {
    const rows = instanceRows(
      [
        { metadata: { name: "cache-redis-1" }, spec: { clusterName: "cache", componentName: "redis", port: 7001, role: "secondary" }, status: { role: "primary", ready: true, host: "127.0.0.1" } },
        { metadata: { name: "cache-redis-0" }, spec: { clusterName: "cache", componentName: "redis", port: 7000 } },
        { metadata: { name: "other-0" }, spec: { clusterName: "other" } },
      ],
      "cache",
    );
    assert.deepEqual(rows.map((r) => [r.name, r.role, r.ready, r.address]), [
      ["cache-redis-0", "", "no", ":7000"],
      ["cache-redis-1", "primary", "yes", "127.0.0.1:7001"],
    ]);
  });

  it("reads an OpsRequest's progress", () => {
    assert.deepEqual(opsProgress({ metadata: { name: "r" } }), { phase: "Pending", progress: "-/-", fraction: 0, finished: false });
    assert.deepEqual(opsProgress({ metadata: { name: "r" }, status: { phase: "Running", progress: "1/4" } }), { phase: "Running", progress: "1/4", fraction: 0.25, finished: false });
    assert.equal(opsProgress({ metadata: { name: "r" }, status: { phase: "Succeed", progress: "1/1" } }).fraction, 1);
    assert.equal(opsProgress({ metadata: { name: "r" }, status: { phase: "Failed", progress: "0/1" } }).finished, true);
  });

  it("maps a Status' causes to the form's fields", () => {
    const errors = fieldErrors({
      kind: "Status",
      message: "invalid",
      details: { causes: [{ field: "metadata.name", message: "must be a DNS label" }, { field: "spec.componentSpecs[0].serviceVersion", message: "not installed" }, { message: "odd" }] },
    });
    assert.deepEqual(errors.get("metadata.name"), ["must be a DNS label"]);
    assert.equal(formFieldOf("metadata.name"), "name");
    assert.equal(formFieldOf("spec.componentSpecs[0].serviceVersion"), "version");
    assert.equal(formFieldOf("spec.componentSpecs[1].replicas"), "replicas");
    assert.equal(formFieldOf("spec.terminationPolicy"), "");
    assert.deepEqual(errors.get(""), ["odd"]);
    assert.deepEqual(fieldErrors({ message: "forbidden" }).get(""), ["forbidden"]);
  });

  it("builds KubeBlocks' manifests from the form: standalone Redis, Redis with Sentinel, PostgreSQL", () => {
    const standalone = clusterManifest({ namespace: "demo", name: "c", engine: "redis", version: "", replicas: 1 });
    assert.equal(standalone.spec["topology"], "standalone");
    assert.deepEqual(standalone.spec["componentSpecs"], [{ name: "redis", replicas: 1 }]);
    const replicated = clusterManifest({ namespace: "demo", name: "c", engine: "redis", version: "7.0.15", replicas: 2 });
    assert.deepEqual(replicated.spec["componentSpecs"], [
      { name: "redis", replicas: 2, serviceVersion: "7.0.15" },
      { name: "redis-sentinel", replicas: 3, serviceVersion: "7.0.15" },
    ]);
    const postgres = clusterManifest({ namespace: "demo", name: "p", engine: "postgresql", version: "16", replicas: 3 });
    assert.equal(postgres.spec["topology"], "replication");
    assert.equal(postgres.metadata.namespace, "demo");
  });

  it("builds the OpsRequest of each action", () => {
    const restart = opsManifest(cluster, "Restart", "abc");
    assert.equal(restart.metadata.name, "cache-restart-abc");
    assert.deepEqual(restart.spec["restart"], [{ componentName: "redis" }, { componentName: "redis-sentinel" }]);
    const switchover = opsManifest(cluster, "Switchover", "x", "cache-redis-0");
    assert.deepEqual(switchover.spec["switchover"], [{ componentName: "redis", instanceName: "cache-redis-0" }]);
    assert.deepEqual(Object.keys(opsManifest(cluster, "Stop", "y").spec), ["clusterName", "type"]);
  });

  it("filters audit records to one object, newest first", () => {
    const records = [
      { verb: "create", objectRef: { resource: "opsrequests", namespace: "demo", name: "r1" }, stageTimestamp: "2026-12-06T10:00:00Z" },
      { verb: "get", objectRef: { resource: "opsrequests", namespace: "demo", name: "r1" }, stageTimestamp: "2026-12-06T10:01:00Z" },
      { verb: "create", objectRef: { resource: "opsrequests", namespace: "other", name: "r1" } },
      { verb: "create", objectRef: { resource: "clusters", namespace: "demo", name: "r1" } },
    ];
    assert.deepEqual(auditOf(records, { namespace: "demo", resource: "opsrequests", name: "r1" }).map((r) => r.verb), ["get", "create"]);
  });

  it("reads access reviews and ages", () => {
    assert.equal(allowed({ status: { allowed: true } }), true);
    assert.equal(allowed({ status: { allowed: "true" } }), false);
    assert.equal(allowed(null), false);
    const now = Date.parse("2026-12-06T12:00:00Z");
    assert.equal(age("2026-12-06T11:59:30Z", now), "30s");
    assert.equal(age("2026-12-06T11:00:00Z", now), "60m");
    assert.equal(age("2026-12-04T12:00:00Z", now), "2d");
    assert.equal(age(undefined, now), "");
  });
});
