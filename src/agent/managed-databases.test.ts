import { test } from "node:test";
import assert from "node:assert/strict";
import { databaseSchema, databaseSpecDigest, type Database, type Instance } from "../api/index.ts";
import { databaseSteps, failedRecord, serverDatabase } from "./managed-databases.ts";

function database(spec: Record<string, unknown>, deleting = false): Database {
  const parsed = databaseSchema.parse({ apiVersion: "holdfast.io/v1", kind: "Database", metadata: { name: "d", namespace: "demo", uid: "u1" }, spec: { clusterName: "pg", componentName: "postgresql", name: "app", ...spec } });
  return deleting ? { ...parsed, metadata: { ...parsed.metadata, deletionTimestamp: "2026-12-06T23:00:00Z" } } : parsed;
}

function instance(role: string, records?: Record<string, string>): Instance {
  return {
    apiVersion: "holdfast.io/v1alpha1",
    kind: "Instance",
    metadata: { name: "pg-postgresql-0", namespace: "demo" },
    spec: { clusterName: "pg", componentName: "postgresql", engine: "postgresql", version: "15", port: 1, ordinal: 0, running: true, parameters: {}, deleteData: false },
    status: { ready: true, role, ...(records === undefined ? {} : { managedDatabases: records }) },
  };
}

const actions = (steps: ReturnType<typeof databaseSteps>): string[] => steps.map((s) => `${s.action}:${s.action === "apply" ? s.database.spec.name : s.name}`);

void test("the primary applies a Database it has not recorded with the spec's digest, and again when the spec changes or failed", () => {
  const d = database({ connectionLimit: 5 });
  const digest = databaseSpecDigest(d);
  assert.deepEqual(actions(databaseSteps(instance("primary"), [d])), ["apply:app"]);
  assert.deepEqual(databaseSteps(instance("primary", { app: digest }), [d]), []);
  assert.deepEqual(actions(databaseSteps(instance("primary", { app: digest }), [database({ connectionLimit: 6 })])), ["apply:app"]);
  assert.deepEqual(actions(databaseSteps(instance("primary", { app: failedRecord(digest, "owner x does not exist yet") }), [d])), ["apply:app"]);
  assert.deepEqual(databaseSteps(instance("primary"), [database({ componentName: "other" })]), [], "another component's");
});

void test("a replica applies nothing and forgets what it recorded as a primary", () => {
  assert.deepEqual(databaseSteps(instance("secondary"), [database({})]), []);
  assert.deepEqual(actions(databaseSteps(instance("secondary", { app: "x" }), [database({})])), ["forget:app"]);
});

void test("deleted: reclaim policy delete drops it, retain only forgets the record; a record with no Database is forgotten", () => {
  const recorded = instance("primary", { app: "x" });
  assert.deepEqual(actions(databaseSteps(recorded, [database({ databaseReclaimPolicy: "delete" }, true)])), ["drop:app"]);
  assert.deepEqual(actions(databaseSteps(recorded, [database({ databaseReclaimPolicy: "retain" }, true)])), ["forget:app"]);
  assert.deepEqual(databaseSteps(instance("primary"), [database({}, true)]), [], "retain, never recorded: nothing to do");
  assert.deepEqual(actions(databaseSteps(recorded, [])), ["forget:app"]);
});

void test("what the engine gets is the spec without the cluster, component and reclaim policy; a failure record is short and one line", () => {
  assert.deepEqual(serverDatabase(database({ owner: "o" })), { name: "app", owner: "o", ensure: "present", connectionLimit: -1, allowConnections: true });
  const record = failedRecord("abc", `a\nlong ${"x".repeat(400)}`);
  assert.ok(record.startsWith("abc!a long "));
  assert.ok(record.length <= 304 && !record.includes("\n"));
});

void test("the digest changes with every applied field and not with the reclaim policy", () => {
  const base = databaseSpecDigest(database({}));
  for (const spec of [{ owner: "o" }, { ensure: "absent" }, { encoding: "UTF8" }, { locale: "C" }, { connectionLimit: 1 }, { allowConnections: false }, { name: "b" }]) {
    assert.notEqual(databaseSpecDigest(database(spec)), base, JSON.stringify(spec));
  }
  assert.equal(databaseSpecDigest(database({ databaseReclaimPolicy: "delete" })), base);
});
