import { test } from "node:test";
import assert from "node:assert/strict";
import type { Cluster } from "../api/index.ts";
import { switchoverSpec } from "./cluster-ops.ts";

function cluster(primary: string | undefined): Cluster {
  return {
    apiVersion: "apps.kubeblocks.io/v1",
    kind: "Cluster",
    metadata: { name: "pg", namespace: "demo" },
    spec: { componentSpecs: [{ name: "postgresql", replicas: 3 }] },
    status: primary === undefined ? {} : { replication: { postgresql: { currentPrimary: primary } } },
  } as unknown as Cluster;
}

test("promote names the current primary and the candidate, as a Switchover asks", () => {
  assert.deepEqual(switchoverSpec(cluster("pg-postgresql-0"), { instance: "pg-postgresql-2" }, "cluster promote"), {
    switchover: [{ componentName: "postgresql", instanceName: "pg-postgresql-0", candidateName: "pg-postgresql-2" }],
  });
  assert.deepEqual(switchoverSpec(cluster("pg-postgresql-0"), {}, "cluster promote"), { switchover: [{ componentName: "postgresql", instanceName: "pg-postgresql-0" }] });
});

test("promote refuses a cluster without a primary, the primary itself, and an unknown component", () => {
  assert.throws(() => switchoverSpec(cluster(undefined), {}, "cluster promote"), /has no primary to switch over from/);
  assert.throws(() => switchoverSpec(cluster("pg-postgresql-0"), { instance: "pg-postgresql-0" }, "cluster promote"), /already the primary/);
  assert.throws(() => switchoverSpec(cluster("pg-postgresql-0"), { component: "redis" }, "cluster promote"), /has no component "redis"/);
});
