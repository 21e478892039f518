import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Cluster, ComponentReplicationStatus, HorizontalScalingSpec, Instance, InstanceStatus, OpsRequest } from "../../api/index.ts";
import { createPostgresqlEngine, createRedisEngine } from "../../engines/index.ts";
import { componentBounds } from "./horizontal-scaling.ts";
import { horizontalScalingProgress, planHorizontalScaling, scaleInSwitchovers, withReplicas, type ReplicaBounds, type ScalingPlan } from "./horizontal-scaling-plan.ts";
import { switchoverRecord } from "./switchover.ts";

const streams = (state: string | undefined): boolean => state === "streaming";
const BOUNDS: ReplicaBounds = { min: 1, max: 5, replicated: true, source: "postgresql topology replication", replicaFollows: streams };
const PRIMARY_0: ComponentReplicationStatus = { currentPrimary: "pg-postgresql-0", targetPrimary: "pg-postgresql-0" };

function cluster(replicas: number, record: ComponentReplicationStatus = PRIMARY_0, generations: [number, number] = [2, 2]): Cluster {
  return {
    apiVersion: "apps.kubeblocks.io/v1",
    kind: "Cluster",
    metadata: { name: "pg", namespace: "demo", uid: "c1", generation: generations[0] },
    spec: { terminationPolicy: "Delete", clusterDef: "postgresql", topology: "replication", componentSpecs: [{ name: "postgresql", replicas }] },
    status: { observedGeneration: generations[1], replication: { postgresql: record } },
  };
}

function ops(entry: Partial<HorizontalScalingSpec>, from?: number): OpsRequest {
  return {
    apiVersion: "operations.kubeblocks.io/v1alpha1",
    kind: "OpsRequest",
    metadata: { name: "scale", namespace: "demo", uid: "o1" },
    spec: { clusterName: "pg", type: "HorizontalScaling", horizontalScaling: [{ componentName: "postgresql", ...entry }] },
    ...(from === undefined ? {} : { status: { lastConfiguration: { components: { postgresql: { replicas: from } } } } }),
  };
}

function instance(ordinal: number, status: InstanceStatus = {}, deleting = false): Instance {
  const primary = ordinal === 0;
  return {
    apiVersion: "holdfast.io/v1alpha1",
    kind: "Instance",
    metadata: { name: `pg-postgresql-${ordinal}`, namespace: "demo", ...(deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}) },
    spec: { engine: "postgresql", version: "16.4", clusterName: "pg", componentName: "postgresql", ordinal, port: 20000 + ordinal, running: true, parameters: {}, deleteData: true, replication: {} },
    status: { ready: true, phase: "Running", role: primary ? "primary" : "secondary", ...(primary ? {} : { replication: { state: "streaming", lagBytes: ordinal } }), ...status },
  };
}

function plans(request: OpsRequest, c: Cluster): ScalingPlan[] {
  const planned = planHorizontalScaling(request, c, () => BOUNDS);
  assert.ok("plans" in planned, JSON.stringify(planned));
  return planned.plans;
}

function failure(request: OpsRequest, c: Cluster): string {
  const planned = planHorizontalScaling(request, c, (component) => (component === "postgresql" ? BOUNDS : undefined));
  return "failure" in planned ? planned.failure : "";
}

describe("planHorizontalScaling", () => {
  it("scale out and in by replicaChanges (the examples), or to a total", () => {
    assert.deepEqual(plans(ops({ scaleOut: { replicaChanges: 1 } }), cluster(2)), [{ component: "postgresql", from: 2, to: 3, replicaFollows: streams }]);
    assert.deepEqual(plans(ops({ scaleIn: { replicaChanges: 1 } }), cluster(3)), [{ component: "postgresql", from: 3, to: 2, replicaFollows: streams }]);
    assert.deepEqual(plans(ops({ replicas: 4 }), cluster(2)), [{ component: "postgresql", from: 2, to: 4, replicaFollows: streams }]);
  });

  it("counts from the recorded start, so a retried start does not apply the change twice", () => {
    assert.deepEqual(plans(ops({ scaleOut: { replicaChanges: 1 } }, 2), cluster(3)), [{ component: "postgresql", from: 2, to: 3, replicaFollows: streams }]);
  });

  it("refuses counts outside the topology's bounds, naming them", () => {
    assert.match(failure(ops({ scaleOut: { replicaChanges: 4 } }), cluster(2)), /6 replicas is outside what postgresql topology replication allows \(1 to 5\); it has 2/);
    assert.match(failure(ops({ scaleIn: { replicaChanges: 1 } }), cluster(1)), /0 replicas is outside/);
  });

  it("refuses what it cannot carry out, saying what to use instead", () => {
    assert.match(failure(ops({ scaleIn: { onlineInstancesToOffline: ["pg-postgresql-1"] } }), cluster(3)), /naming instances .* is not supported: .* use replicaChanges/);
    assert.match(failure(ops({ scaleOut: { newInstances: [{ name: "x" }] } }), cluster(3)), /not supported/);
    assert.match(failure(ops({ replicas: 3, scaleOut: { replicaChanges: 1 } }), cluster(2)), /either replicas or/);
    assert.match(failure(ops({}), cluster(2)), /say how to scale/);
    assert.match(failure({ ...ops({}), spec: { clusterName: "pg", type: "HorizontalScaling", horizontalScaling: [{ componentName: "nope", replicas: 2 }] } }, cluster(2)), /nope is not a component/);
    assert.match(failure({ ...ops({}), spec: { clusterName: "pg", type: "HorizontalScaling" } }, cluster(2)), /lists no component/);
  });
});

describe("componentBounds", () => {
  const engines = { list: () => [createPostgresqlEngine(), createRedisEngine()], find: (name: string) => engines.list().find((e) => e.name === name), versions: () => Promise.resolve([]) };
  it("reads min and max from the topology of the cluster's definition", () => {
    const { replicaFollows, ...bounds } = componentBounds(cluster(2), "postgresql", engines) ?? assert.fail("bounds");
    assert.deepEqual(bounds, { min: 1, max: 5, replicated: true, source: "postgresql topology replication" });
    assert.equal(replicaFollows("streaming"), true);
    const standalone = cluster(1);
    standalone.spec.topology = "standalone";
    assert.equal(componentBounds(standalone, "postgresql", engines)?.max, 1);
    assert.equal(componentBounds(cluster(1), "other", engines), undefined);
  });
});

describe("scaleInSwitchovers: the primary is never removed", () => {
  it("none when the primary stays", () => {
    assert.deepEqual(scaleInSwitchovers([{ component: "postgresql", from: 3, to: 2, replicaFollows: streams }], cluster(3), [instance(0), instance(1), instance(2)]), { switchovers: [] });
  });

  it("switches over to the best replica that stays when the primary is among those removed", () => {
    const c = cluster(3, { currentPrimary: "pg-postgresql-2", targetPrimary: "pg-postgresql-2" });
    const members = [instance(0, { role: "secondary", replication: { state: "streaming", lagBytes: 50 } }), instance(1, { replication: { state: "streaming", lagBytes: 10 } }), instance(2, { role: "primary" })];
    assert.deepEqual(scaleInSwitchovers([{ component: "postgresql", from: 3, to: 2, replicaFollows: streams }], c, members), { switchovers: [{ component: "postgresql", from: "pg-postgresql-2", to: "pg-postgresql-1" }] });
  });

  it("fails when no replica that stays is ready", () => {
    const c = cluster(3, { currentPrimary: "pg-postgresql-2", targetPrimary: "pg-postgresql-2" });
    const members = [instance(0, { ready: false }), instance(1, { ready: false }), instance(2, { role: "primary" })];
    const result = scaleInSwitchovers([{ component: "postgresql", from: 3, to: 2, replicaFollows: streams }], c, members);
    assert.match("failure" in result ? result.failure : "", /no ready replica among those that stay/);
  });
});

describe("horizontalScalingProgress", () => {
  const request = ops({ scaleIn: { replicaChanges: 1 } }, 3);
  const plan: ScalingPlan[] = [{ component: "postgresql", from: 3, to: 2, replicaFollows: streams }];

  it("not done while the removed instance still exists, or before the cluster controller saw the new spec", () => {
    assert.equal(horizontalScalingProgress(request, cluster(2), [instance(0), instance(1), instance(2, {}, true)], plan).finished, false);
    assert.equal(horizontalScalingProgress(request, cluster(2, PRIMARY_0, [3, 2]), [instance(0), instance(1)], plan).finished, false);
    assert.equal(horizontalScalingProgress(request, cluster(3), [instance(0), instance(1)], plan).finished, false, "the spec is not changed yet");
  });

  it("done when the component runs at its new size, one primary and streaming replicas", () => {
    assert.deepEqual(horizontalScalingProgress(request, cluster(2), [instance(0), instance(1)], plan), { done: 1, total: 1, finished: true });
  });

  it("a new replica counts once it streams", () => {
    const out: ScalingPlan[] = [{ component: "postgresql", from: 2, to: 3, replicaFollows: streams }];
    const catchingUp = [instance(0), instance(1), instance(2, { replication: { state: "catchup" } })];
    assert.equal(horizontalScalingProgress(ops({ scaleOut: { replicaChanges: 1 } }, 2), cluster(3), catchingUp, out).finished, false);
    assert.equal(horizontalScalingProgress(ops({ scaleOut: { replicaChanges: 1 } }, 2), cluster(3), [instance(0), instance(1), instance(2)], out).finished, true);
  });

  it("a Redis replica counts once its master reports it online (the engine's answer, not PostgreSQL's streaming)", () => {
    const engines = { list: () => [createPostgresqlEngine(), createRedisEngine()], find: (name: string) => engines.list().find((e) => e.name === name), versions: () => Promise.resolve([]) };
    const redis: Cluster = {
      ...cluster(3, { currentPrimary: "rr-redis-0", targetPrimary: "rr-redis-0" }),
      metadata: { name: "rr", namespace: "demo", uid: "c2", generation: 2 },
      spec: { terminationPolicy: "Delete", clusterDef: "redis", topology: "replication", componentSpecs: [{ name: "redis", replicas: 3 }, { name: "redis-sentinel", replicas: 3 }] },
    };
    redis.status = { observedGeneration: 2, replication: { redis: { currentPrimary: "rr-redis-0", targetPrimary: "rr-redis-0" } } };
    const request: OpsRequest = { ...ops({}), spec: { clusterName: "rr", type: "HorizontalScaling", horizontalScaling: [{ componentName: "redis", scaleOut: { replicaChanges: 1 } }] }, status: { lastConfiguration: { components: { redis: { replicas: 2 } } } } };
    const planned = planHorizontalScaling(request, redis, (component) => componentBounds(redis, component, engines));
    assert.ok("plans" in planned, JSON.stringify(planned));
    const member = (ordinal: number, state: string): Instance => {
      const base = instance(ordinal, ordinal === 0 ? {} : { replication: { state, lagBytes: 0 } });
      return { ...base, metadata: { ...base.metadata, name: `rr-redis-${ordinal}` }, spec: { ...base.spec, engine: "redis", clusterName: "rr", componentName: "redis" } };
    };
    assert.deepEqual(horizontalScalingProgress(request, redis, [member(0, ""), member(1, "online"), member(2, "online")], planned.plans), { done: 1, total: 1, finished: true });
    const waiting = horizontalScalingProgress(request, redis, [member(0, ""), member(1, "online"), member(2, "wait_bgsave")], planned.plans);
    assert.equal(waiting.finished, false);
    assert.match(waiting.waitingFor ?? "", /rr-redis-2 to follow the primary rr-redis-0 .*replication link wait_bgsave/);
  });

  it("fails with the reason when the switchover before it failed", () => {
    const record = switchoverRecord({ currentPrimary: "pg-postgresql-2", targetPrimary: "pg-postgresql-2" }, { component: "postgresql", from: "pg-postgresql-2", to: "pg-postgresql-1" }, request, "2026-01-01T00:00:00Z");
    const change = record.roleChange ?? assert.fail("a role change is recorded");
    const failed = { ...record, roleChange: { ...change, result: "Failed" as const, message: "pg-postgresql-1 did not catch up" } };
    assert.match(horizontalScalingProgress(request, cluster(3, failed), [instance(0), instance(1), instance(2)], plan).failure ?? "", /switchover before scaling in failed: pg-postgresql-1 did not catch up/);
  });

  it("withReplicas changes only the planned components", () => {
    assert.equal(withReplicas(cluster(3), plan).spec.componentSpecs[0]?.replicas, 2);
  });
});
