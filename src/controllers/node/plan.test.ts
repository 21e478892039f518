import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Condition, Instance, Node } from "../../api/index.ts";
import { INSTANCE_NODE_READY, planNodeLifecycle } from "./plan.ts";

const T0 = Date.parse("2026-12-05T12:00:00Z");
const GRACE = 20_000;

function node(heartbeatAt: number | undefined, ready: "True" | "False"): Node {
  return {
    apiVersion: "holdfast.io/v1alpha1",
    kind: "Node",
    metadata: { name: "vm1", creationTimestamp: new Date(T0 - 60_000).toISOString() },
    spec: {},
    status: {
      ...(heartbeatAt === undefined ? {} : { heartbeatTime: new Date(heartbeatAt).toISOString() }),
      conditions: [{ type: "Ready", status: ready, reason: ready === "True" ? "NodeAgentReady" : "NodeStatusUnknown", message: "", lastTransitionTime: new Date(T0 - 60_000).toISOString() }],
    },
  };
}

function instance(name: string, nodeName: string, conditions?: Condition[]): Instance {
  return {
    apiVersion: "holdfast.io/v1alpha1",
    kind: "Instance",
    metadata: { name, namespace: "demo" },
    spec: { engine: "redis", version: "7.0", clusterName: "r", componentName: "redis", ordinal: 0, port: 20001, running: true, parameters: {}, deleteData: true, nodeName },
    status: { phase: "Running", ready: true, ...(conditions === undefined ? {} : { conditions }) },
  };
}

describe("planNodeLifecycle", () => {
  it("leaves a node with a fresh heartbeat alone and looks again when it would be too old", () => {
    const plan = planNodeLifecycle(node(T0 - 5_000, "True"), [instance("r-redis-0", "vm1")], T0, GRACE);
    assert.equal(plan.nodeCondition, undefined);
    assert.deepEqual(plan.instances, []);
    assert.equal(plan.requeueAfterMs, 15_001);
  });

  it("marks a node whose heartbeat is older than the grace period Ready=False (NodeStatusUnknown), and its instances", () => {
    const instances = [instance("r-redis-0", "vm1"), instance("other", "vm2")];
    const plan = planNodeLifecycle(node(T0 - 21_000, "True"), instances, T0, GRACE);
    const condition = plan.nodeCondition;
    assert.ok(condition !== undefined);
    assert.deepEqual([condition.status, condition.reason], ["False", "NodeStatusUnknown"]);
    assert.match(condition.message, /stopped posting heartbeats: the last was at 2026-12-05T11:59:39.000Z, more than the grace period of 20 s ago/);
    assert.deepEqual(plan.instances.map((c) => [c.instance.metadata.name, c.condition.type, c.condition.status, c.condition.reason]), [["r-redis-0", INSTANCE_NODE_READY, "False", "NodeNotReady"]]);
    assert.equal(plan.requeueAfterMs, undefined, "a heartbeat that resumes wakes it");
  });

  it("writes nothing again once the node and its instances say so (the messages do not change with time)", () => {
    const first = planNodeLifecycle(node(T0 - 21_000, "True"), [instance("r-redis-0", "vm1")], T0, GRACE);
    const marked: Node = { ...node(T0 - 21_000, "False"), status: { ...node(T0 - 21_000, "False").status, conditions: [{ ...first.nodeCondition!, lastTransitionTime: new Date(T0).toISOString() }] } };
    const condition = { ...first.instances[0]!.condition, lastTransitionTime: new Date(T0).toISOString() };
    const later = planNodeLifecycle(marked, [instance("r-redis-0", "vm1", [condition])], T0 + 60_000, GRACE);
    assert.equal(later.nodeCondition, undefined);
    assert.deepEqual(later.instances, []);
  });

  it("a node that never posted a heartbeat counts from its registration", () => {
    assert.equal(planNodeLifecycle(node(undefined, "True"), [], T0, GRACE).nodeCondition?.status, "False");
    assert.match(planNodeLifecycle(node(undefined, "True"), [], T0, GRACE).nodeCondition?.message ?? "", /it never posted one/);
  });

  it("sets the instances' condition back to True when the heartbeat resumes and the node is Ready again", () => {
    const notReady = { type: INSTANCE_NODE_READY, status: "False" as const, reason: "NodeNotReady", message: "x", lastTransitionTime: new Date(T0).toISOString() };
    const plan = planNodeLifecycle(node(T0 - 1_000, "True"), [instance("r-redis-0", "vm1", [notReady]), instance("r-redis-1", "vm1")], T0, GRACE);
    assert.deepEqual(plan.instances.map((c) => [c.instance.metadata.name, c.condition.status]), [["r-redis-0", "True"]]);
  });
});
