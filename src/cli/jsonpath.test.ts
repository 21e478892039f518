import { test } from "node:test";
import assert from "node:assert/strict";
import { UsageError } from "./args.ts";
import { parseTemplate } from "./jsonpath.ts";

const LIST = {
  kind: "List",
  items: [
    { metadata: { name: "pg", labels: { "app.kubernetes.io/instance": "pg" } }, status: { phase: "Running", conditions: [{ type: "Ready", status: "True" }, { type: "Healthy", status: "False" }] }, spec: { replicas: 3 } },
    { metadata: { name: "redis" }, status: { phase: "Creating", conditions: [{ type: "Ready", status: "False" }] }, spec: { replicas: 1 } },
  ],
};

function render(template: string, data: unknown = LIST): string {
  return parseTemplate(template).render(data);
}

test("fields, wildcards and several results joined by a space, as kubectl prints them", () => {
  assert.equal(render("{.items[*].metadata.name}"), "pg redis");
  assert.equal(render("{.kind}"), "List");
  assert.equal(render("{.items[0].spec}"), '{"replicas":3}');
  assert.equal(render("{.items[0].metadata.labels['app.kubernetes.io/instance']}"), "pg");
  assert.equal(render("{.items[0].metadata.labels.app\\.kubernetes\\.io/instance}"), "pg");
});

test("indexes (negative from the end) and slices", () => {
  assert.equal(render("{.items[-1].metadata.name}"), "redis");
  assert.equal(render("{.items[5].metadata.name}"), "");
  assert.equal(render("{.items[0:1].metadata.name}"), "pg");
  assert.equal(render("{.items[1:].metadata.name}"), "redis");
});

test("filters compare a path with a value, or test that it is there", () => {
  assert.equal(render('{.items[0].status.conditions[?(@.type=="Ready")].status}'), "True");
  assert.equal(render('{.items[?(@.spec.replicas > 1)].metadata.name}'), "pg");
  assert.equal(render('{.items[?(@.status.phase != "Running")].metadata.name}'), "redis");
  assert.equal(render("{.items[?(@.metadata.labels)].metadata.name}"), "pg");
});

test("recursive descent finds a field at any depth", () => {
  assert.equal(render("{..phase}"), "Running Creating");
});

test("range and quoted text make one line per item", () => {
  assert.equal(render('{range .items[*]}{.metadata.name}{"\\t"}{.status.phase}{"\\n"}{end}'), "pg\tRunning\nredis\tCreating\n");
  assert.equal(render("names: {range .items[*]}[{.metadata.name}]{end}"), "names: [pg][redis]");
});

test("a bare path without braces is one action (custom-columns, --sort-by)", () => {
  assert.deepEqual(parseTemplate(".spec.replicas").values(LIST.items[0]), [3]);
  assert.deepEqual(parseTemplate(".missing").values(LIST.items[0]), []);
});

test("a malformed template is a usage error naming what is wrong", () => {
  assert.throws(() => parseTemplate("{.items[*]"), (e: unknown) => e instanceof UsageError && /unclosed \{/.test(e.message));
  assert.throws(() => parseTemplate("{range .items[*]}{.x}"), /\{range\} without \{end\}/);
  assert.throws(() => parseTemplate("{.items[?(@.a ~ 1)]}"), /unexpected " "/);
  assert.throws(() => parseTemplate("{end}"), /\{end\} without \{range\}/);
});
