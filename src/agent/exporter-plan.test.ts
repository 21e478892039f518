import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Instance } from "../api/index.ts";
import { exporterStep } from "./exporter-plan.ts";

function instance(spec: Partial<Instance["spec"]> = {}, status: Instance["status"] = { phase: "Running", ready: true, startedAt: "t1" }, deleting = false): Instance {
  return {
    apiVersion: "holdfast.io/v1alpha1",
    kind: "Instance",
    metadata: { name: "pg-db-0", namespace: "demo", ...(deleting ? { deletionTimestamp: "t9" } : {}) },
    spec: { engine: "postgresql", version: "15", clusterName: "pg", componentName: "db", ordinal: 0, port: 20001, running: true, parameters: {}, deleteData: true, ...spec },
    status,
  };
}

describe("exporterStep", () => {
  it("stops the exporter of a stopped, deleted or disableExporter instance, and of an engine without one", () => {
    assert.equal(exporterStep(instance({ running: false }), true, true).kind, "stop");
    assert.equal(exporterStep(instance({}, undefined, true), true, true).kind, "stop");
    assert.equal(exporterStep(instance({ disableExporter: true }), true, true).kind, "stop");
    assert.equal(exporterStep(instance(), false, false).kind, "stop");
  });

  it("waits for the database's first start, then starts the exporter and keeps it while the database is down", () => {
    assert.equal(exporterStep(instance({}, { phase: "Initializing" }), true, false).kind, "wait");
    assert.equal(exporterStep(instance(), true, false).kind, "start");
    const down = instance({}, { phase: "CrashLoopBackOff", ready: false, startedAt: "t1", exporter: { port: 17001, pid: 5, accountFor: "t0" } });
    assert.equal(exporterStep(down, true, true).kind, "keep", "a database that is down is what the exporter reports: it is not stopped, and no account is set up on it");
  });

  it("sets the monitoring account up again after each start of the database", () => {
    assert.equal(exporterStep(instance({}, { phase: "Running", ready: true, startedAt: "t2", exporter: { port: 17001, pid: 5, accountFor: "t1" } }), true, true).kind, "account");
    assert.equal(exporterStep(instance({}, { phase: "Running", ready: true, startedAt: "t2", exporter: { port: 17001, pid: 5, accountFor: "t2" } }), true, true).kind, "keep");
  });
});
