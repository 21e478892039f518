import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Cluster, Instance, InstanceStatus } from "../../api/index.ts";
import { judgedLease, memberOf, withReachability } from "./member-view.ts";
import { observedRole, roleLabelUpdates, type ComponentView } from "./plan.ts";
import { haSettings } from "./settings.ts";

function instance(ordinal: number, status: InstanceStatus): Instance {
  return {
    apiVersion: "holdfast.io/v1alpha1",
    kind: "Instance",
    metadata: { name: `pg-postgresql-${ordinal}`, namespace: "demo", labels: { "kubeblocks.io/role": ordinal === 0 ? "primary" : "secondary" } },
    spec: { engine: "postgresql", version: "15", clusterName: "pg", componentName: "postgresql", ordinal, port: 20000 + ordinal, running: true, parameters: {}, deleteData: true, role: "secondary", replication: { upstream: "pg-postgresql-1" } },
    status: { phase: "Running", ready: true, pid: 100 + ordinal, role: ordinal === 0 ? "primary" : "secondary", replicationState: { role: ordinal === 0 ? "primary" : "secondary", observedAt: new Date().toISOString() }, ...status },
  };
}

describe("members whose node agent cannot be heard", () => {
  const cluster: Cluster = { apiVersion: "apps.kubeblocks.io/v1", kind: "Cluster", metadata: { name: "pg", namespace: "demo" }, spec: { terminationPolicy: "Delete", componentSpecs: [{ name: "postgresql", replicas: 2 }] } };
  const view = (members: ComponentView["members"]): ComponentView => ({ cluster, component: "postgresql", members, settings: haSettings(cluster), nowMs: Date.now(), rank: () => [] });

  it("a former primary on a node that is not Ready keeps no role: its report is stale", () => {
    const lost = instance(0, { conditions: [{ type: "NodeReady", status: "False", reason: "NodeNotReady", message: "", lastTransitionTime: new Date().toISOString() }] });
    const members = withReachability([memberOf(lost), memberOf(instance(1, {}))], undefined);
    const [former] = members;
    assert.ok(former);
    assert.equal(former.unreachable, true);
    assert.equal(former.observation, undefined);
    assert.equal(observedRole(former), undefined);
    assert.deepEqual(roleLabelUpdates(view(members)), [{ name: "pg-postgresql-0", role: undefined }], "its primary label goes");
  });

  it("one that held the primary lease and lost it is unreachable; one whose lease is held is not", () => {
    const claimed = instance(0, { primaryLease: { name: "primary-u-postgresql", holder: "node-1/pg-postgresql-0/u0", acquiredAt: new Date().toISOString() } });
    assert.equal(withReachability([memberOf(claimed)], { holder: undefined })[0]?.unreachable, true);
    assert.equal(withReachability([memberOf(claimed)], { holder: "node-1/pg-postgresql-0/u0" })[0]?.unreachable, undefined);
    assert.equal(withReachability([memberOf(claimed)], undefined)[0]?.unreachable, undefined, "the store could not say: nothing is concluded");
  });

  it("a former primary that rejoined as a replica after its node was lost is heard again, whatever lease claim its status kept", () => {
    const rejoined = instance(1, { primaryLease: { name: "primary-u-postgresql", holder: "node-1/pg-postgresql-1/u0", acquiredAt: new Date().toISOString() } });
    const [member] = withReachability([memberOf(rejoined)], { holder: "node-2/pg-postgresql-2/u1" });
    assert.equal(member?.unreachable, undefined);
    assert.equal(member && observedRole(member), "secondary", "it answers, and counts for a synchronous failover");
  });
});

describe("the primary lease right after the controllers began to lead", () => {
  const lease = { name: "primary-u-postgresql", holder: "node-1/pg-postgresql-0/u0", acquiredAt: new Date().toISOString() };
  const onNode = (node: string): Instance => {
    const i = instance(0, { primaryLease: lease });
    return { ...i, spec: { ...i.spec, nodeName: node } };
  };
  const lapsed = { holder: undefined };

  it("a lease that lapsed while this process was down is not judged for a primary on the controllers' own node", () => {
    assert.equal(judgedLease(lapsed, onNode("node-1"), { nodeName: "node-1", leadingForMs: 3000 }, 2000), undefined);
  });

  it("it is judged once the grace has passed, for a primary on another node, and when it is held", () => {
    assert.deepEqual(judgedLease(lapsed, onNode("node-1"), { nodeName: "node-1", leadingForMs: 10_001 }, 2000), lapsed);
    assert.deepEqual(judgedLease(lapsed, onNode("node-2"), { nodeName: "node-1", leadingForMs: 100 }, 2000), lapsed, "a lost host is failed over at once");
    const held = { holder: lease.holder };
    assert.deepEqual(judgedLease(held, onNode("node-1"), { nodeName: "node-1", leadingForMs: 100 }, 2000), held);
    assert.deepEqual(judgedLease(lapsed, onNode("node-1"), undefined, 2000), lapsed, "no term known: judged as read");
  });

  it("another holder on the controllers' own node's primary is judged after the grace only", () => {
    const taken = { holder: "node-2/pg-postgresql-1/u1" };
    assert.equal(judgedLease(taken, onNode("node-1"), { nodeName: "node-1", leadingForMs: 5000 }, 5000), undefined);
    assert.deepEqual(judgedLease(taken, onNode("node-1"), { nodeName: "node-1", leadingForMs: 10_000 }, 5000), taken);
  });
});
