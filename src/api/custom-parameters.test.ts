import { test } from "node:test";
import assert from "node:assert/strict";
import { actionArguments, customParameterValues, PARAMETER_VALUE_MAX } from "./custom-parameters.ts";
import { opsDefinitionSchema } from "./ops-definition.ts";

const DEFINITION = opsDefinitionSchema.parse({
  apiVersion: "operations.kubeblocks.io/v1alpha1",
  kind: "OpsDefinition",
  metadata: { name: "pg-sessions" },
  spec: {
    componentInfos: [{ componentDefinitionName: "postgresql" }],
    parametersSchema: {
      openAPIV3Schema: {
        type: "object",
        properties: {
          user: { type: "string", pattern: "^[a-z_][a-z0-9_]*$", maxLength: 63 },
          pid: { type: "integer", minimum: 1, maximum: 4194304 },
          mode: { type: "string", enum: ["terminate", "cancel"], default: "terminate" },
          dryRun: { type: "boolean" },
        },
        required: ["user"],
      },
    },
    actions: [{ name: "end", parameters: ["user", "pid"], exec: { command: ["holdfast:pg-terminate-backend"] } }],
  },
});

void test("values are typed as the schema says and defaults filled in", () => {
  const { values, problems } = customParameterValues(DEFINITION, [{ name: "user", value: "app" }, { name: "pid", value: "42" }, { name: "dryRun", value: "false" }]);
  assert.deepEqual(problems, []);
  assert.deepEqual(values, { user: "app", pid: 42, dryRun: false, mode: "terminate" });
  assert.deepEqual(actionArguments(["user", "pid", "absent"], values), { user: "app", pid: 42 });
});

void test("each bad value is refused naming its parameter", () => {
  const cases: [string, string, RegExp][] = [
    ["user", "x'; DROP TABLE t; --", /does not match the pattern/],
    ["pid", "0", /below the minimum 1/],
    ["pid", "12abc", /is not an integer/],
    ["pid", "99999999999999999999", /is not an integer/],
    ["mode", "kill", /is not one of "terminate", "cancel"/],
    ["dryRun", "yes", /is not a boolean/],
    ["user", "a".repeat(64), /does not match|longer than 63/],
  ];
  for (const [name, value, message] of cases) {
    const given = name === "user" ? [{ name, value }] : [{ name: "user", value: "app" }, { name, value }];
    const { problems } = customParameterValues(DEFINITION, given);
    assert.equal(problems.length, 1, `${name}=${value}: ${JSON.stringify(problems)}`);
    const [problem] = problems;
    assert.ok(problem);
    assert.equal(problem.field, `parameters[${given.length - 1}].value`);
    assert.ok(problem.message.startsWith(`parameter ${name}: `), problem.message);
    assert.match(problem.message, message);
  }
});

void test("unknown, repeated, missing and overlong parameters are refused", () => {
  assert.deepEqual(customParameterValues(DEFINITION, [{ name: "user", value: "a" }, { name: "table", value: "t" }]).problems.map((p) => p.field), ["parameters[1].name"]);
  assert.deepEqual(customParameterValues(DEFINITION, [{ name: "user", value: "a" }, { name: "user", value: "b" }]).problems.map((p) => p.field), ["parameters[1].name"]);
  const missing = customParameterValues(DEFINITION, [{ name: "pid", value: "3" }]).problems;
  assert.deepEqual(missing.map((p) => p.field), ["parameters"]);
  assert.match(missing[0]?.message ?? "", /parameter user is required by OpsDefinition pg-sessions/);
  const long = customParameterValues(DEFINITION, [{ name: "user", value: "a" }, { name: "mode", value: "x".repeat(PARAMETER_VALUE_MAX + 1) }]).problems;
  assert.match(long[0]?.message ?? "", /longer than 1024/);
});
