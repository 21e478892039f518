import { test } from "node:test";
import assert from "node:assert/strict";
import { databaseSchema, databaseSpecDigest, type Database, type Instance } from "../../api/index.ts";
import { databaseStatus, remainingRecords } from "./plan.ts";

const DB: Database = databaseSchema.parse({ apiVersion: "holdfast.io/v1", kind: "Database", metadata: { name: "d", namespace: "demo", uid: "u1", generation: 3 }, spec: { clusterName: "pg", componentName: "postgresql", name: "app", owner: "app_owner" } });

function instance(name: string, role: string, ready: boolean, record?: string): Instance {
  return {
    apiVersion: "holdfast.io/v1alpha1",
    kind: "Instance",
    metadata: { name, namespace: "demo" },
    spec: { clusterName: "pg", componentName: "postgresql", engine: "postgresql", version: "15", port: 1, ordinal: 0, running: true, parameters: {}, deleteData: false },
    status: { ready, role, ...(record === undefined ? {} : { managedDatabases: { app: record } }) },
  };
}

void test("Ready once the running primary recorded the spec's digest; Pending before, and with no running primary", () => {
  const digest = databaseSpecDigest(DB);
  const ready = databaseStatus(DB, [instance("pg-0", "primary", true, digest), instance("pg-1", "secondary", true)]);
  assert.deepEqual([ready.phase, ready.observedGeneration, ready.appliedOn], ["Ready", 3, ["pg-0"]]);
  assert.match(ready.message ?? "", /present on pg-0, owner app_owner/);
  assert.equal(databaseStatus(DB, [instance("pg-0", "primary", true, "older")]).phase, "Pending");
  const none = databaseStatus(DB, [instance("pg-0", "primary", false, digest)]);
  assert.equal(none.phase, "Pending");
  assert.match(none.message ?? "", /no running primary/);
});

void test("Failed with the primary's reason when it recorded a failure of this spec; a failure of an older spec is Pending", () => {
  const digest = databaseSpecDigest(DB);
  const failed = databaseStatus(DB, [instance("pg-0", "primary", true, `${digest}!owner app_owner does not exist yet`)]);
  assert.equal(failed.phase, "Failed");
  assert.match(failed.message ?? "", /pg-0, retrying: owner app_owner does not exist yet$/);
  assert.equal(databaseStatus(DB, [instance("pg-0", "primary", true, "0000!old reason")]).phase, "Pending");
});

void test("a deleted Database waits for every instance still recording it, naming those not running", () => {
  assert.deepEqual(remainingRecords(DB, [instance("pg-0", "primary", true, "x"), instance("pg-1", "secondary", false, "x"), instance("pg-2", "secondary", true)]), { holding: ["pg-0", "pg-1"], stopped: ["pg-1"] });
  assert.deepEqual(remainingRecords(DB, [instance("pg-0", "primary", true)]), { holding: [], stopped: [] });
});
