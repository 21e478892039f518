import { test } from "node:test";
import assert from "node:assert/strict";
import { listMergeOf } from "../../api/index.ts";
import { ConflictError, InputError } from "../../errors/index.ts";
import { fieldManagerOf, recordUpdate, serverSideApply, type ManagedFieldsEntry, type Writer } from "./managed-fields.ts";

const lists = (path: string) => listMergeOf("Cluster", path);
const writer = (manager: string): Writer => ({ manager, apiVersion: "apps.kubeblocks.io/v1", lists, now: "2026-01-01T00:00:00Z" });

function applied(replicas: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: "apps.kubeblocks.io/v1",
    kind: "Cluster",
    metadata: { name: "pg", namespace: "demo", labels: { team: "a" } },
    spec: { terminationPolicy: "Delete", componentSpecs: [{ name: "postgresql", replicas }], ...extra },
  };
}

function managed(object: Record<string, unknown>): ManagedFieldsEntry[] {
  return ((object["metadata"] as Record<string, unknown>)["managedFields"] ?? []) as ManagedFieldsEntry[];
}

test("an apply records its fields (FieldsV1) and a re-apply without a field removes it", () => {
  const first = serverSideApply(undefined, applied(1, { topology: "replication" }), writer("alice"), false);
  const entry = managed(first)[0];
  assert.ok(entry);
  assert.equal(entry.manager, "alice");
  assert.equal(entry.operation, "Apply");
  const spec = entry.fieldsV1["f:spec"] as Record<string, Record<string, unknown>>;
  assert.deepEqual(Object.keys(spec).sort(), ["f:componentSpecs", "f:terminationPolicy", "f:topology"]);
  assert.deepEqual(spec["f:componentSpecs"], { 'k:{"name":"postgresql"}': { ".": {}, "f:name": {}, "f:replicas": {} } });
  assert.equal((entry.fieldsV1["f:metadata"] as Record<string, unknown>)["f:name"], undefined, "identity is nobody's");
  const second = serverSideApply(first, applied(1), writer("alice"), false);
  assert.equal((second["spec"] as Record<string, unknown>)["topology"], undefined);
});

test("an apply that changes another manager's field is a 409 naming the field and the manager; force takes it", () => {
  const first = serverSideApply(undefined, applied(1), writer("alice"), false);
  assert.throws(
    () => serverSideApply(first, applied(3), writer("bob"), false),
    (error: unknown) =>
      error instanceof ConflictError &&
      /Apply failed with 1 conflict: conflict with "alice" \(Apply\) using apps\.kubeblocks\.io\/v1: \.spec\.componentSpecs\[name="postgresql"\]\.replicas/.test(error.message) &&
      error.causes[0]?.reason === "FieldManagerConflict",
  );
  const shared = serverSideApply(first, applied(1), writer("bob"), false);
  assert.deepEqual(managed(shared).map((m) => m.manager), ["alice", "bob"], "the same value is shared, not a conflict");
  const forced = serverSideApply(first, applied(3), writer("bob"), true);
  const specOf = (m: ManagedFieldsEntry | undefined) => JSON.stringify(m?.fieldsV1["f:spec"] ?? {});
  assert.doesNotMatch(specOf(managed(forced).find((m) => m.manager === "alice")), /f:replicas/);
  assert.match(specOf(managed(forced).find((m) => m.manager === "bob")), /f:replicas/);
  // alice stops applying the component: the element stays, bob still owns a field of it.
  const aliceDrops = serverSideApply(forced, { ...applied(3), spec: { terminationPolicy: "Delete" } }, writer("alice"), false);
  assert.deepEqual((aliceDrops["spec"] as { componentSpecs: unknown[] }).componentSpecs, [{ name: "postgresql", replicas: 3 }]);
});

test("a write other than apply takes the fields it changes from the appliers, so the next apply conflicts", () => {
  const first = serverSideApply(undefined, applied(1), writer("alice"), false);
  const edited = structuredClone(first);
  (edited["spec"] as { componentSpecs: { replicas: number }[] }).componentSpecs.forEach((c) => (c.replicas = 5));
  const updated = recordUpdate(first, edited, writer("kubectl-edit"));
  const editor = managed(updated).find((m) => m.manager === "kubectl-edit");
  assert.ok(editor);
  assert.equal(editor.operation, "Update");
  assert.match(JSON.stringify(editor.fieldsV1), /f:replicas/);
  assert.throws(() => serverSideApply(updated, applied(1), writer("alice"), false), /conflict with "kubectl-edit" using/);
});

test("fieldManager is required for apply and taken from the User-Agent otherwise", () => {
  assert.throws(() => fieldManagerOf(new URLSearchParams(), "kubectl/v1.32.4", true), InputError);
  assert.equal(fieldManagerOf(new URLSearchParams(), "kubectl/v1.32.4 (linux/amd64)", false), "kubectl");
  assert.equal(fieldManagerOf(new URLSearchParams("fieldManager=kubectl-client-side-apply"), undefined, false), "kubectl-client-side-apply");
  assert.throws(() => fieldManagerOf(new URLSearchParams(`fieldManager=${"x".repeat(129)}`), undefined, true), InputError);
});
