import { test } from "node:test";
import assert from "node:assert/strict";
import type { Instance } from "../api/index.ts";
import { createPostgresqlEngine } from "../engines/index.ts";
import { customActionDecision, runCustomSteps, shortMessage } from "./custom-action.ts";

function instance(request: string | undefined, seen?: { id: string; result: "Running" | "Succeeded" | "Failed" }): Instance {
  return {
    apiVersion: "holdfast.io/v1alpha1",
    kind: "Instance",
    metadata: { name: "pg-postgresql-0", namespace: "demo", uid: "i1" },
    spec: {
      engine: "postgresql", version: "16", clusterName: "pg", componentName: "postgresql", ordinal: 0, port: 1, running: true, parameters: {}, deleteData: true,
      ...(request === undefined ? {} : { customAction: { id: request, opsRequest: "demo/op", steps: [{ action: "checkpoint", arguments: {} }], timeoutSeconds: 5, requestedAt: "t" } }),
    },
    status: { ready: true, ...(seen === undefined ? {} : { customAction: { ...seen, startedAt: "t" } }) },
  };
}

void test("each request id runs once; one found Running after a restart of the agent is reported, not run again", () => {
  assert.equal(customActionDecision(instance(undefined), false), "none");
  assert.equal(customActionDecision(instance("a"), false), "start");
  assert.equal(customActionDecision(instance("b", { id: "a", result: "Succeeded" }), false), "start");
  assert.equal(customActionDecision(instance("a", { id: "a", result: "Succeeded" }), false), "none");
  assert.equal(customActionDecision(instance("a", { id: "a", result: "Failed" }), false), "none");
  assert.equal(customActionDecision(instance("a", { id: "a", result: "Running" }), true), "none");
  assert.equal(customActionDecision(instance("a", { id: "a", result: "Running" }), false), "lost");
});

void test("a step naming no action of the engine, or with bad arguments, fails without reaching the server", async () => {
  const engine = createPostgresqlEngine();
  const holder = { instance: instance("a"), engine, context: { port: 1 } as never, admin: { username: "postgres", password: "x" } };
  const request = { id: "a", opsRequest: "demo/op", timeoutSeconds: 1, requestedAt: "t" };
  const unknown = await runCustomSteps(holder, { ...request, steps: [{ action: "drop-everything", arguments: {} }] }, { caFile: "/nonexistent" });
  assert.deepEqual(unknown, { ok: false, message: "drop-everything: failed: drop-everything is not an action of engine postgresql" });
  const own = await runCustomSteps(holder, { ...request, steps: [{ action: "pg-terminate-backend", arguments: { user: "postgres" } }] }, { caFile: "/nonexistent" });
  assert.equal(own.ok, false);
  assert.match(own.message, /system account/);
  assert.equal(shortMessage(`a\n  b ${"x".repeat(600)}`).length, 500);
});
