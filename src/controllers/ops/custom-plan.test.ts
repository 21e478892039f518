import { test } from "node:test";
import assert from "node:assert/strict";
import type { Instance, OpsRequest } from "../../api/index.ts";
import { customProgress, customRequest, customTargets, customToken } from "./custom-plan.ts";

const OPS = { apiVersion: "operations.kubeblocks.io/v1alpha1", kind: "OpsRequest", metadata: { name: "op", namespace: "demo", uid: "u1" }, spec: { clusterName: "pg", type: "Custom" } } as OpsRequest;

function member(ordinal: number, role: string, extra: Partial<Instance["status"]> = {}, request?: string): Instance {
  return {
    apiVersion: "holdfast.io/v1alpha1",
    kind: "Instance",
    metadata: { name: `pg-postgresql-${ordinal}`, namespace: "demo" },
    spec: {
      engine: "postgresql", version: "16", clusterName: "pg", componentName: "postgresql", ordinal, port: 20000 + ordinal, running: true, parameters: {}, deleteData: true,
      ...(request === undefined ? {} : { customAction: customRequest(OPS, [{ action: "checkpoint", arguments: {} }], 60, "2026-12-07T00:00:00Z") }),
    },
    status: { ready: true, role, phase: "Running", ...extra },
  };
}

void test("the primary alone, or every instance, each ready", () => {
  const members = [member(0, "primary"), member(1, "secondary")];
  assert.deepEqual((customTargets("postgresql", members, "primary") as Instance[]).map((i) => i.metadata.name), ["pg-postgresql-0"]);
  assert.equal((customTargets("postgresql", members, "every") as Instance[]).length, 2);
  const down = customTargets("postgresql", [member(0, "primary"), member(1, "secondary", { ready: false, phase: "Starting" })], "every");
  assert.match((down as { failure: string }).failure, /instance pg-postgresql-1 is not ready \(Starting\)/);
  assert.match((customTargets("postgresql", [member(1, "secondary")], "primary") as { failure: string }).failure, /no primary/);
});

void test("progress counts the instances that carry the request; a failure names the instance and the engine's message", () => {
  const id = customToken(OPS);
  const running = [member(0, "primary", { customAction: { id, result: "Succeeded", message: "checkpoint: CHECKPOINT done", startedAt: "t" } }, id), member(1, "secondary", { customAction: { id, result: "Running", startedAt: "t" } }, id), member(2, "secondary")];
  const progress = customProgress(OPS, running);
  assert.equal(`${progress.done}/${progress.total}`, "1/2");
  assert.equal(progress.finished, false);
  assert.deepEqual(progress.details?.map((d) => d.status), ["Succeed", "Processing"]);
  const failed = customProgress(OPS, [running[0]!, member(1, "secondary", { customAction: { id, result: "Failed", message: "checkpoint: failed: must be superuser", startedAt: "t" } }, id)]);
  assert.equal(failed.failure, "Instance/pg-postgresql-1: checkpoint: failed: must be superuser");
  const done = customProgress(OPS, [running[0]!]);
  assert.equal(done.finished, true);
  assert.match(customProgress(OPS, [member(0, "primary")]).failure ?? "", /no instance carries the request/);
  const old = customProgress(OPS, [member(0, "primary", { customAction: { id: "other", result: "Succeeded", startedAt: "t" } }, id)]);
  assert.deepEqual(old.details?.map((d) => d.status), ["Pending"], "an earlier request's outcome is not this one's");
});
