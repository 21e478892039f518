import { test } from "node:test";
import assert from "node:assert/strict";
import { findKind, type Resource } from "../api/index.ts";
import { includeObjectOf, tableVersionOf, toTable } from "./table.ts";

test("a Table is answered when the first servable media range asks for one, v1 or v1beta1", () => {
  assert.equal(tableVersionOf("application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"), "meta.k8s.io/v1");
  assert.equal(tableVersionOf("application/json;as=Table;v=v1beta1;g=meta.k8s.io, application/json"), "meta.k8s.io/v1beta1");
  assert.equal(tableVersionOf("application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1;g=meta.k8s.io"), "meta.k8s.io/v1");
  assert.equal(tableVersionOf("application/json, application/json;as=Table;v=v1;g=meta.k8s.io"), undefined);
  assert.equal(tableVersionOf("application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io,application/json"), undefined);
  assert.equal(tableVersionOf(undefined), undefined);
});

test("rows have holdfast get's cells; includeObject says what else they carry", () => {
  const kind = findKind("cluster");
  assert.ok(kind);
  const cluster: Resource = {
    apiVersion: "apps.kubeblocks.io/v1",
    kind: "Cluster",
    metadata: { name: "pg", namespace: "demo", creationTimestamp: new Date(Date.now() - 90_000).toISOString() },
    spec: { clusterDef: "postgresql", terminationPolicy: "Delete" },
    status: { phase: "Running" },
  };
  const table = toTable([cluster], { kind, version: "meta.k8s.io/v1", include: "Metadata" }, "42") as {
    kind: string;
    metadata: { resourceVersion: string };
    columnDefinitions: { name: string; priority: number }[];
    rows: { cells: string[]; object?: { kind: string; metadata: unknown } }[];
  };
  assert.equal(table.kind, "Table");
  assert.equal(table.metadata.resourceVersion, "42");
  assert.deepEqual(table.columnDefinitions.filter((c) => c.priority === 0).map((c) => c.name), ["NAME", "CLUSTER-DEFINITION", "TERMINATION-POLICY", "STATUS", "AGE"]);
  const [row] = table.rows;
  assert.ok(row);
  assert.deepEqual(row.cells.slice(0, 4), ["pg", "postgresql", "Delete", "Running"]);
  assert.equal(row.cells[4], "90s");
  assert.equal(row.object?.kind, "PartialObjectMetadata");
  const none = toTable([cluster], { kind, version: "meta.k8s.io/v1", include: includeObjectOf(new URLSearchParams("includeObject=None")) }) as { rows: { object?: unknown }[] };
  assert.equal(none.rows[0]?.object, undefined);
  const full = toTable([cluster], { kind, version: "meta.k8s.io/v1", include: "Object" }) as { rows: { object?: Resource }[] };
  assert.deepEqual(full.rows[0]?.object, cluster);
});
