import { test } from "node:test";
import assert from "node:assert/strict";
import { databaseUserSpecDigest, type DatabaseUser, type Instance } from "../../api/index.ts";
import { remainingHolders, userStatus } from "./plan.ts";

const USER: DatabaseUser = {
  apiVersion: "holdfast.io/v1",
  kind: "DatabaseUser",
  metadata: { name: "reader", namespace: "demo", uid: "u1", generation: 2 },
  spec: { clusterName: "rd", componentName: "redis", username: "reader", grants: [{ keys: ["app:*"], categories: ["read"] }] },
};

function instance(name: string, role: string, ready: boolean, record?: string): Instance {
  return {
    apiVersion: "holdfast.io/v1alpha1",
    kind: "Instance",
    metadata: { name, namespace: "demo" },
    spec: { clusterName: "rd", componentName: "redis", engine: "redis", version: "7", port: 1, ordinal: 0, running: true, parameters: {}, deleteData: false },
    status: { ready, role, ...(record === undefined ? {} : { managedUsers: { reader: record } }) },
  };
}

void test("Ready once every running holder applied the spec as it is now; Pending naming the others", () => {
  const digest = `${databaseUserSpecDigest(USER)}.abc`;
  const both = [instance("rd-0", "primary", true, digest), instance("rd-1", "secondary", true, "old.abc")];
  const pending = userStatus(USER, both, "every", "s");
  assert.equal(pending.phase, "Pending");
  assert.match(pending.message ?? "", /rd-1/);
  assert.deepEqual(pending.appliedOn, ["rd-0"]);
  assert.equal(userStatus(USER, both, "primary", "s").phase, "Ready");
  const ready = userStatus(USER, [both[0] as Instance, instance("rd-1", "secondary", true, digest)], "every", "s");
  assert.equal(ready.phase, "Ready");
  assert.equal(ready.observedGeneration, 2);
  assert.equal(userStatus(USER, [instance("rd-0", "primary", false)], "every", "s").phase, "Pending");
});

void test("a deleted user waits for the instances that still hold it, naming those not running", () => {
  const left = remainingHolders(USER, [instance("rd-0", "primary", true, "x.y"), instance("rd-1", "secondary", false, "x.y"), instance("rd-2", "secondary", true)]);
  assert.deepEqual(left, { holding: ["rd-0", "rd-1"], stopped: ["rd-1"] });
});
