import { test } from "node:test";
import assert from "node:assert/strict";
import type { Cluster } from "./cluster.ts";
import { clusterTopology, componentTopology, topologyNamed } from "./topology.ts";

const engine = {
  definition: {
    topologies: [
      { name: "standalone", default: true, components: [{ name: "redis", replicated: false }] },
      { name: "replication", default: false, components: [{ name: "redis", replicated: true }, { name: "redis-sentinel", arbiterOf: "redis" }] },
    ],
  },
};

function cluster(spec: Partial<Cluster["spec"]>): Cluster {
  return { apiVersion: "apps.kubeblocks.io/v1", kind: "Cluster", metadata: { name: "r" }, spec: { terminationPolicy: "Delete", componentSpecs: [{ name: "redis", replicas: 1 }], ...spec } };
}

test("a cluster's topology: spec.topology with a clusterDef, else the engine's default", () => {
  assert.equal(clusterTopology(cluster({ clusterDef: "redis", topology: "replication" }), engine)?.name, "replication");
  assert.equal(clusterTopology(cluster({ clusterDef: "redis" }), engine)?.name, "standalone");
  assert.equal(clusterTopology(cluster({ topology: "replication" }), engine)?.name, "standalone", "topology counts only with a clusterDef");
  assert.equal(clusterTopology(cluster({ clusterDef: "redis", topology: "sharded" }), engine), undefined);
  assert.equal(topologyNamed(engine.definition.topologies, undefined)?.name, "standalone");
});

test("a component's definition: by name with a clusterDef; a one-component topology's only one with a componentDef", () => {
  assert.equal(componentTopology(cluster({ clusterDef: "redis", topology: "replication" }), engine, "redis-sentinel")?.arbiterOf, "redis");
  assert.equal(componentTopology(cluster({ clusterDef: "redis" }), engine, "cache"), undefined);
  assert.equal(componentTopology(cluster({}), engine, "cache")?.name, "redis");
});
