import { test } from "node:test";
import assert from "node:assert/strict";
import { clusterOsUser, instanceOsUser, instanceSpecSchema, OS_USER_NAME, SHARED_OS_USER, type Instance } from "./instance.ts";

test("a cluster's OS user is a stable, valid system user name of its own", () => {
  const name = clusterOsUser("0b6f3f8e-8f4e-4c39-9d0c-5a1f7d2e9c11");
  assert.match(name, /^hf-[0-9a-f]{16}$/);
  assert.match(name, OS_USER_NAME);
  assert.ok(name.length <= 32, "Linux user names have at most 32 characters");
  assert.equal(clusterOsUser("0b6f3f8e-8f4e-4c39-9d0c-5a1f7d2e9c11"), name);
  assert.notEqual(clusterOsUser("0b6f3f8e-8f4e-4c39-9d0c-5a1f7d2e9c12"), name);
});

test("an instance without spec.osUser (made by an older version) runs as the shared user", () => {
  const spec = { engine: "redis", version: "7.2.4", clusterName: "c", componentName: "redis", ordinal: 0, port: 20000, running: true, parameters: {}, deleteData: true };
  const instance: Instance = { apiVersion: "holdfast.io/v1alpha1", kind: "Instance", metadata: { name: "c-redis-0" }, spec };
  assert.equal(instanceOsUser(instance), SHARED_OS_USER);
  assert.equal(instanceOsUser({ ...instance, spec: { ...spec, osUser: "hf-0123456789abcdef" } }), "hf-0123456789abcdef");
});

test("spec.osUser must be a user name that cannot be read as an option", () => {
  const spec = { engine: "redis", version: "7.2.4", clusterName: "c", componentName: "redis", ordinal: 0, port: 20000, running: true, parameters: {}, deleteData: true };
  for (const bad of ["-o", "Root", "a;b", "x".repeat(33), ""]) assert.equal(instanceSpecSchema.safeParse({ ...spec, osUser: bad }).success, false, bad);
});
