import { test } from "node:test";
import assert from "node:assert/strict";
import { clusterSchema, opsDefinitionSchema, opsRequestSchema, type OpsRequest } from "../../api/index.ts";
import { EngineCatalog, builtinEngines } from "../../engines/index.ts";
import { customOpsCauses } from "./custom-ops-rules.ts";

const engines = new EngineCatalog(builtinEngines());

const CLUSTER = clusterSchema.parse({
  apiVersion: "apps.kubeblocks.io/v1",
  kind: "Cluster",
  metadata: { name: "pg", namespace: "demo" },
  spec: { clusterDef: "postgresql", componentSpecs: [{ name: "postgresql" }] },
});

const DEFINITION = opsDefinitionSchema.parse({
  apiVersion: "operations.kubeblocks.io/v1alpha1",
  kind: "OpsDefinition",
  metadata: { name: "pg-end-sessions" },
  spec: {
    componentInfos: [{ componentDefinitionName: "postgresql" }],
    parametersSchema: { openAPIV3Schema: { properties: { user: { type: "string", maxLength: 63 }, pid: { type: "integer", minimum: 1 } } } },
    actions: [{ name: "end", parameters: ["user", "pid"], exec: { command: ["holdfast:pg-terminate-backend"] } }],
  },
});

function ops(custom: Record<string, unknown> | undefined): OpsRequest {
  return opsRequestSchema.parse({ apiVersion: "operations.kubeblocks.io/v1alpha1", kind: "OpsRequest", metadata: { name: "op", namespace: "demo" }, spec: { clusterName: "pg", type: "Custom", ...(custom === undefined ? {} : { custom }) } });
}

const item = (parameters: { name: string; value: string }[], componentName = "postgresql") => ({ opsDefinitionName: "pg-end-sessions", items: [{ componentName, parameters }] });

void test("a Custom request within the definition's schema and the action's rules is accepted", () => {
  assert.deepEqual(customOpsCauses(ops(item([{ name: "user", value: "app" }])), CLUSTER, DEFINITION, engines), []);
});

void test("a bad parameter is refused naming it", () => {
  const [bad] = customOpsCauses(ops(item([{ name: "user", value: "app" }, { name: "pid", value: "1; SELECT 1" }])), CLUSTER, DEFINITION, engines);
  assert.equal(bad?.field, "spec.custom.items[0].parameters[1].value");
  assert.match(bad.message, /parameter pid: "1; SELECT 1" is not an integer/);
  const [both] = customOpsCauses(ops(item([{ name: "user", value: "app" }, { name: "pid", value: "7" }])), CLUSTER, DEFINITION, engines);
  assert.equal(both?.field, "spec.custom.items[0].parameters");
  assert.match(both.message, /give only one of pid, user/);
  const [own] = customOpsCauses(ops(item([{ name: "user", value: "postgres" }])), CLUSTER, DEFINITION, engines);
  assert.equal(own?.field, "spec.custom.items[0].parameters[0].value");
  assert.match(own.message, /system account/);
});

void test("a missing definition, a missing custom section and a component of another engine are refused", () => {
  assert.deepEqual(customOpsCauses(ops(item([])), CLUSTER, undefined, engines).map((c) => c.field), ["spec.custom.opsDefinitionName"]);
  assert.deepEqual(customOpsCauses(ops(undefined), CLUSTER, DEFINITION, engines).map((c) => c.field), ["spec.custom"]);
  assert.deepEqual(customOpsCauses(ops(item([{ name: "user", value: "a" }], "redis")), CLUSTER, DEFINITION, engines).map((c) => c.field), ["spec.custom.items[0].componentName"]);
  const redis = clusterSchema.parse({ ...CLUSTER, spec: { clusterDef: "redis", componentSpecs: [{ name: "postgresql" }] } });
  const [other] = customOpsCauses(ops(item([{ name: "user", value: "a" }])), redis, DEFINITION, engines);
  assert.match(other?.message ?? "", /runs redis; OpsDefinition pg-end-sessions applies to postgresql/);
});
