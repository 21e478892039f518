import { test } from "node:test";
import assert from "node:assert/strict";
import type { Instance } from "../api/index.ts";
import { bindingDecision } from "./binding.ts";

function instance(nodeName: string | undefined): Instance {
  return {
    apiVersion: "holdfast.io/v1alpha1",
    kind: "Instance",
    metadata: { name: "pg-postgresql-0", namespace: "demo" },
    spec: { engine: "postgresql", version: "16", clusterName: "pg", componentName: "postgresql", ordinal: 0, port: 20000, running: true, parameters: {}, deleteData: true, ...(nodeName === undefined ? {} : { nodeName }) },
  };
}

test("the node agent acts only on instances bound to its node, and adopts unbound ones its home holds", () => {
  assert.equal(bindingDecision(instance("vm1"), "vm1", false), "own");
  assert.equal(bindingDecision(instance("vm2"), "vm1", true), "ignore", "another node's instance, even with a directory of the same name here");
  assert.equal(bindingDecision(instance(undefined), "vm1", true), "adopt");
  assert.equal(bindingDecision(instance(undefined), "vm1", false), "ignore", "not in this home: the cluster controller binds it");
});
