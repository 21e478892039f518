import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Resource } from "../api/index.ts";
import { addressOf } from "./cluster-connect.ts";

function instance(status: Record<string, unknown>): Resource {
  return { apiVersion: "holdfast.io/v1alpha1", kind: "Instance", metadata: { name: "pg-postgresql-0", namespace: "demo" }, spec: { port: 40001 }, status };
}

describe("addressOf", () => {
  it("takes the read-write endpoint on the node the CLI talks to, wherever the instance runs", () => {
    assert.deepEqual(addressOf({ port: 40100 }, instance({ host: "127.0.42.1" }), "127.0.42.2"), { host: "127.0.42.2", port: 40100 });
  });

  it("without an endpoint, takes the instance where it listens: its node's address, loopback when none is recorded", () => {
    assert.deepEqual(addressOf(undefined, instance({ host: "127.0.42.1" }), "127.0.42.2"), { host: "127.0.42.1", port: 40001 });
    assert.deepEqual(addressOf(undefined, instance({}), "127.0.42.2"), { host: "127.0.0.1", port: 40001 });
  });
});
