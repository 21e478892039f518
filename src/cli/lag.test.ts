import { test } from "node:test";
import assert from "node:assert/strict";
import type { Resource } from "../api/index.ts";
import { formatBytes, lagCell } from "./lag.ts";

function instance(spec: Record<string, unknown>, status: Record<string, unknown>): Resource {
  return { apiVersion: "holdfast.io/v1alpha1", kind: "Instance", metadata: { name: "pg-postgresql-1" }, spec, status };
}

test("bytes are shown in binary units", () => {
  assert.deepEqual([0, 1023, 1024, 1536, 10 * 1024, 5 * 1024 * 1024].map(formatBytes), ["0 B", "1023 B", "1.0 KiB", "1.5 KiB", "10 KiB", "5.0 MiB"]);
});

test("the LAG cell: blank outside replication, - for the primary, bytes and state for replicas", () => {
  assert.equal(lagCell(instance({ role: "primary" }, { role: "primary" })), "");
  assert.equal(lagCell(instance({ role: "primary", replication: {} }, { role: "primary" })), "-");
  assert.equal(lagCell(instance({ role: "secondary", replication: { upstream: "pg-postgresql-0" } }, { role: "secondary", replication: { state: "streaming", lagBytes: 0 } })), "0 B");
  assert.equal(lagCell(instance({ role: "secondary", replication: {} }, { role: "secondary", replication: { state: "catchup", lagBytes: 2048 } })), "2.0 KiB (catchup)");
  assert.equal(lagCell(instance({ role: "secondary", replication: {} }, { role: "secondary" })), "unknown");
});
