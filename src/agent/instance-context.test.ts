import { test } from "node:test";
import assert from "node:assert/strict";
import type { Instance } from "../api/index.ts";
import { homePaths } from "../config/index.ts";
import { UnavailableError } from "../errors/index.ts";
import type { Engine, EngineVersion } from "../engines/index.ts";
import { instanceContext } from "./instance-context.ts";

const installed = [{ version: "16.4", binDir: "/usr/lib/postgresql/16/bin" }] as unknown as EngineVersion[];
const engines = { versions: (): Promise<EngineVersion[]> => Promise.resolve(installed) };
const engine = { name: "postgresql" } as Engine;

function instance(version: string): Instance {
  return {
    apiVersion: "holdfast.io/v1alpha1",
    kind: "Instance",
    metadata: { name: "pg-postgresql-1", namespace: "demo" },
    spec: { engine: "postgresql", version, clusterName: "pg", componentName: "postgresql", ordinal: 1, port: 20001, running: true, role: "secondary", parameters: { shared_buffers: "128MB" }, deleteData: true },
    status: { role: "primary" },
  };
}

test("the engine context of an instance: its layout in the home, the installed version, its parameters and the role its spec gives it", async () => {
  const context = await instanceContext(homePaths("/h"), engines, engine, instance("16.4"));
  assert.equal(context.dataDirectory, "/h/instances/demo/pg-postgresql-1/data");
  assert.equal(context.port, 20001);
  assert.equal(context.version, installed[0]);
  assert.deepEqual(context.parameters, { shared_buffers: "128MB" });
  assert.equal(context.role, "secondary", "from the spec, whatever the status last observed");
});

test("a version no longer installed on this node is UnavailableError, saying how to install it", async () => {
  await assert.rejects(instanceContext(homePaths("/h"), engines, engine, instance("15.8")), (error: unknown) => error instanceof UnavailableError && /postgresql 15.8 is no longer installed on this host; run holdfast engines install/.test(error.message));
});
