import { test } from "node:test";
import assert from "node:assert/strict";
import type { Instance } from "../api/index.ts";
import { createPostgresqlEngine } from "../engines/index.ts";
import { CustomActions, customActionDecision, runCustomSteps, shortMessage, type ActionReporter } from "./custom-action.ts";

function instance(request: string | undefined, seen?: { id: string; result: "Running" | "Succeeded" | "Failed" }): Instance {
  return {
    apiVersion: "holdfast.io/v1alpha1",
    kind: "Instance",
    metadata: { name: "pg-postgresql-0", namespace: "demo", uid: "i1" },
    spec: {
      engine: "postgresql", version: "16", clusterName: "pg", componentName: "postgresql", ordinal: 0, port: 1, running: true, parameters: {}, deleteData: true,
      ...(request === undefined ? {} : { customAction: { id: request, opsRequest: "demo/op", steps: [{ action: "checkpoint", arguments: {} }], timeoutSeconds: 5, requestedAt: "2026-12-07T03:00:00Z" } }),
    },
    status: { ready: true, ...(seen === undefined ? {} : { customAction: { ...seen, startedAt: "t" } }) },
  };
}

const SOON = Date.parse("2026-12-07T03:00:02Z");

void test("each request id runs once; one found Running after a restart of the agent is reported, not run again", () => {
  assert.equal(customActionDecision(instance(undefined), false, SOON), "none");
  assert.equal(customActionDecision(instance("a"), false, SOON), "start");
  assert.equal(customActionDecision(instance("b", { id: "a", result: "Succeeded" }), false, SOON), "start");
  assert.equal(customActionDecision(instance("a", { id: "a", result: "Succeeded" }), false, SOON), "none");
  assert.equal(customActionDecision(instance("a", { id: "a", result: "Failed" }), false, SOON), "none");
  assert.equal(customActionDecision(instance("a", { id: "a", result: "Running" }), true, SOON), "none");
  assert.equal(customActionDecision(instance("a", { id: "a", result: "Running" }), false, SOON), "lost");
});

void test("a request past its timeoutSeconds is never started (an instance whose status was reset does not run it again)", () => {
  const late = Date.parse("2026-12-07T03:00:06Z");
  assert.equal(customActionDecision(instance("a"), false, late), "none");
  assert.equal(customActionDecision(instance("a", { id: "a", result: "Running" }), false, late), "lost", "one cut short is still reported");
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

void test("a run that ended here is not reported lost by a reconcile still holding the instance as it was while it ran", async () => {
  const engine = createPostgresqlEngine();
  const statuses: string[] = [];
  let finished: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finished = resolve));
  const reporter: ActionReporter = {
    setStatus: (status) => {
      statuses.push(status.result);
      if (status.result !== "Running") finished();
      return Promise.resolve();
    },
    record: () => Promise.resolve(),
  };
  const actions = new CustomActions(() => ({ caFile: "/nonexistent" }));
  const fresh = { ...instance("a"), spec: { ...instance("a").spec, customAction: { ...instance("a").spec.customAction!, requestedAt: new Date().toISOString() } } };
  const holder = { instance: fresh, engine, context: { port: 1 } as never, admin: { username: "postgres", password: "x" } };
  await actions.tend(holder, reporter);
  await done; // the step fails at once (nothing listens on port 1): the run has ended here
  await new Promise((resolve) => setImmediate(resolve));
  const stale = { ...fresh, status: { ready: true, customAction: { id: "a", result: "Running" as const, startedAt: "t" } } };
  assert.equal(actions.due(stale), false);
  await actions.tend({ ...holder, instance: stale }, reporter);
  assert.deepEqual(statuses, ["Running", "Failed"], "one run, one outcome: no second report that the agent restarted");
});
