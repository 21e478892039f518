import { test } from "node:test";
import assert from "node:assert/strict";
import type { DatabaseUser, Instance } from "../api/index.ts";
import { appliedDigest, userSteps } from "./managed-users.ts";

function user(name: string, username: string, extra: Partial<DatabaseUser["metadata"]> = {}): DatabaseUser {
  return {
    apiVersion: "holdfast.io/v1",
    kind: "DatabaseUser",
    metadata: { name, namespace: "demo", uid: `uid-${name}`, ...extra },
    spec: { clusterName: "pg", componentName: "postgresql", username, grants: [{ on: "database", database: "postgres", privileges: ["CONNECT"] }] },
  };
}

function instance(role: string, managedUsers?: Record<string, string>, generation?: number): Instance {
  return {
    apiVersion: "holdfast.io/v1alpha1",
    kind: "Instance",
    metadata: { name: `pg-postgresql-${role}`, namespace: "demo" },
    spec: { clusterName: "pg", componentName: "postgresql", engine: "postgresql", version: "16", port: 1, ordinal: 0, running: true, parameters: {}, deleteData: false },
    status: { ready: true, role, processStartTicks: "42", ...(managedUsers === undefined ? {} : { managedUsers }), ...(generation === undefined ? {} : { passwords: { app: { generation } } }) },
  };
}

void test("the primary applies a new user; a replica does not where users replicate, but does where every instance holds them", () => {
  const app = user("app", "app");
  assert.deepEqual(userSteps(instance("primary"), [app], "primary").map((s) => s.action), ["apply"]);
  assert.deepEqual(userSteps(instance("secondary"), [app], "primary"), []);
  assert.deepEqual(userSteps(instance("secondary"), [app], "every").map((s) => s.action), ["apply"]);
});

void test("a user applied as specified is left alone; a changed grant, a rotated password or a restart applies it again", () => {
  const app = user("app", "app");
  const primary = instance("primary");
  const applied = instance("primary", { app: appliedDigest(app, primary) });
  assert.deepEqual(userSteps(applied, [app], "primary"), []);
  const changed = { ...app, spec: { ...app.spec, grants: [{ on: "database", database: "postgres", privileges: ["CONNECT", "TEMPORARY"] }] } };
  assert.deepEqual(userSteps(applied, [changed], "primary").map((s) => s.action), ["apply"]);
  const rotated = instance("primary", { app: appliedDigest(app, primary) }, 1);
  assert.deepEqual(userSteps(rotated, [app], "primary").map((s) => s.action), ["apply"]);
  const restarted = { ...applied, status: { ...applied.status, processStartTicks: "43" } } as Instance;
  assert.deepEqual(userSteps(restarted, [app], "primary").map((s) => s.action), ["apply"]);
  assert.ok(!appliedDigest(app, primary).includes("app"));
});

void test("a user being deleted, or gone, is dropped by a holder and only forgotten by a replica (the primary's drop replicates)", () => {
  const deleting = user("app", "app", { deletionTimestamp: "2026-12-06T00:00:00Z" });
  assert.deepEqual(userSteps(instance("primary", { app: "x.y" }), [deleting], "primary"), [{ action: "drop", username: "app" }]);
  assert.deepEqual(userSteps(instance("primary", { gone: "x.y" }), [], "primary"), [{ action: "drop", username: "gone" }]);
  assert.deepEqual(userSteps(instance("secondary", { app: "x.y" }), [user("app", "app")], "primary"), [{ action: "forget", username: "app" }]);
});

void test("users of other clusters or components are not this instance's", () => {
  const other = { ...user("x", "x"), spec: { ...user("x", "x").spec, clusterName: "other" } };
  assert.deepEqual(userSteps(instance("primary"), [other], "every"), []);
});
