import { test } from "node:test";
import assert from "node:assert/strict";
import { fieldNotes, opsDefinitionSchema, type OpsDefinition } from "../../api/index.ts";
import { EngineCatalog, builtinEngines } from "../../engines/index.ts";
import { opsDefinitionCauses } from "./ops-definition-rules.ts";

const engines = new EngineCatalog(builtinEngines());

function definition(spec: Record<string, unknown>): OpsDefinition {
  return opsDefinitionSchema.parse({ apiVersion: "operations.kubeblocks.io/v1alpha1", kind: "OpsDefinition", metadata: { name: "def" }, spec });
}

const TERMINATE = {
  componentInfos: [{ componentDefinitionName: "postgresql-16" }],
  parametersSchema: { openAPIV3Schema: { type: "object", properties: { user: { type: "string" } }, required: ["user"] } },
  actions: [{ name: "end-sessions", parameters: ["user"], exec: { command: ["holdfast:pg-terminate-backend"] } }],
};

void test("a definition naming an allow-listed action of its engine is accepted", () => {
  assert.deepEqual(opsDefinitionCauses(definition(TERMINATE), engines), []);
  assert.deepEqual(opsDefinitionCauses(definition({ componentInfos: [{ componentDefinitionName: "redis" }], actions: [{ name: "save", exec: { command: ["holdfast:bgsave"] } }] }), engines), []);
});

void test("a command that is not an allow-listed action is refused naming the field and listing the allow-list", () => {
  for (const command of [["psql", "-c", "DROP DATABASE x"], ["holdfast:drop-database"], ["holdfast:checkpoint", "; rm -rf /"], ["/bin/sh", "-c", "id"]]) {
    const causes = opsDefinitionCauses(definition({ ...TERMINATE, actions: [{ name: "x", exec: { command } }] }), engines);
    assert.equal(causes.length, 1, JSON.stringify(command));
    const [cause] = causes;
    assert.equal(cause?.field, "spec.actions[0].exec.command");
    assert.match(cause.message, /holdfast:pg-terminate-backend, holdfast:pg-cancel-backend, holdfast:vacuum-analyze, holdfast:checkpoint, holdfast:reload/);
  }
  const redisOnly = opsDefinitionCauses(definition({ componentInfos: [{ componentDefinitionName: "postgresql" }], actions: [{ name: "save", exec: { command: ["holdfast:bgsave"] } }] }), engines);
  assert.match(redisOnly[0]?.message ?? "", /"holdfast:bgsave" is not on the allow-list of postgresql/);
});

void test("an action without exec, an unknown engine, and parameters the action does not take are refused", () => {
  assert.deepEqual(opsDefinitionCauses(definition({ ...TERMINATE, actions: [{ name: "x" }] }), engines).map((c) => c.field), ["spec.actions[0].exec"]);
  assert.deepEqual(opsDefinitionCauses(definition({ ...TERMINATE, componentInfos: [{ componentDefinitionName: "mongodb" }] }), engines).map((c) => c.field), ["spec.componentInfos[0].componentDefinitionName"]);
  const schema = { openAPIV3Schema: { properties: { user: { type: "string" }, table: { type: "string" }, pid: { type: "string" } } } };
  const causes = opsDefinitionCauses(definition({ ...TERMINATE, parametersSchema: schema, actions: [{ name: "x", parameters: ["table", "nope", "pid"], exec: { command: ["holdfast:pg-terminate-backend"] } }] }), engines);
  assert.deepEqual(causes.map((c) => c.field), ["spec.actions[0].parameters[0]", "spec.actions[0].parameters[1]", "spec.actions[0].parameters[2]"]);
  assert.match(causes[2]?.message ?? "", /takes pid as integer, the schema says string/);
});

void test("the schema's required names and patterns are checked", () => {
  const schema = { openAPIV3Schema: { properties: { user: { type: "string", pattern: "([a-z" } }, required: ["user", "who"] } };
  assert.deepEqual(opsDefinitionCauses(definition({ ...TERMINATE, parametersSchema: schema }), engines).map((c) => c.field), ["spec.parametersSchema.openAPIV3Schema.required[1]", "spec.parametersSchema.openAPIV3Schema.properties.user.pattern"]);
});

void test("KubeBlocks' fields outside the subset are refused naming the field", () => {
  const value = {
    apiVersion: "operations.kubeblocks.io/v1alpha1",
    kind: "OpsDefinition",
    metadata: { name: "def" },
    spec: {
      ...TERMINATE,
      preConditions: [{ rule: { expression: "true" } }],
      podInfoExtractors: [{ name: "p", podSelector: { role: "primary" } }],
      actions: [{ name: "x", workload: { type: "Job" }, exec: { command: ["holdfast:checkpoint"], podInfoExtractorName: "p", env: [{ name: "A", value: "b" }] } }],
      parametersSchema: { openAPIV3Schema: { properties: { user: { type: "string", format: "email" } } } },
    },
  };
  const refused = fieldNotes(opsDefinitionSchema, value).filter((n) => n.support === "refused").map((n) => n.field).sort();
  assert.deepEqual(refused, ["spec.actions[0].exec.env", "spec.actions[0].exec.podInfoExtractorName", "spec.actions[0].workload", "spec.parametersSchema.openAPIV3Schema.properties.user.format", "spec.podInfoExtractors", "spec.preConditions"]);
});
