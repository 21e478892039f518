import { test } from "node:test";
import assert from "node:assert/strict";
import type { Resource } from "../api/index.ts";
import { UsageError } from "./args.ts";
import { customColumns, parseOutput, sortBy, withLabels } from "./get-formats.ts";
import { parseTemplate } from "./jsonpath.ts";

const NOW = new Date("2026-12-06T12:00:00Z");

function object(name: string, replicas: number | undefined, labels?: Record<string, string>): Resource {
  return { apiVersion: "v1", kind: "Thing", metadata: { name, ...(labels === undefined ? {} : { labels }) }, ...(replicas === undefined ? {} : { spec: { replicas } }) };
}

test("-o accepts the plain formats, jsonpath= and custom-columns=", () => {
  assert.equal(parseOutput("yaml", "get").format, "yaml");
  assert.equal(parseOutput("jsonpath={.metadata.name}", "get").template?.render(object("a", 1)), "a");
  assert.equal(parseOutput("jsonpath='{.metadata.name}'", "get").template?.render(object("a", 1)), "a", "quotes a shell left in place are dropped");
  assert.deepEqual(parseOutput("custom-columns=NAME:.metadata.name", "get").columns?.headers, ["NAME"]);
});

test("-o with an unknown format or a missing template says what it accepts", () => {
  assert.throws(() => parseOutput("xml", "get"), (e: unknown) => e instanceof UsageError && /jsonpath=TEMPLATE or custom-columns=SPEC/.test(e.message));
  assert.throws(() => parseOutput("jsonpath", "get"), /needs a template/);
  assert.throws(() => parseOutput("custom-columns=NAME", "get"), /is not HEADER:PATH/);
});

test("custom columns show each path's values, <none> for a missing one", () => {
  const table = customColumns("NAME:.metadata.name,REPLICAS:.spec.replicas");
  assert.deepEqual(table.headers, ["NAME", "REPLICAS"]);
  assert.deepEqual(table.row(object("pg", 3), NOW), ["pg", "3"]);
  assert.deepEqual(table.row(object("bare", undefined), NOW), ["bare", "<none>"]);
});

test("--show-labels adds the labels, sorted, last", () => {
  const table = withLabels(customColumns("NAME:.metadata.name"));
  assert.deepEqual(table.headers, ["NAME", "LABELS"]);
  assert.deepEqual(table.row(object("pg", 1, { b: "2", a: "1" }), NOW), ["pg", "a=1,b=2"]);
  assert.deepEqual(table.row(object("x", 1), NOW), ["x", "<none>"]);
});

test("--sort-by orders numbers by value, objects without the field first", () => {
  const sorted = sortBy([object("ten", 10), object("two", 2), object("none", undefined)], parseTemplate(".spec.replicas"));
  assert.deepEqual(sorted.map((o) => o.metadata.name), ["none", "two", "ten"]);
  const byName = sortBy([object("b", 1), object("a", 1)], parseTemplate("{.metadata.name}"));
  assert.deepEqual(byName.map((o) => o.metadata.name), ["a", "b"]);
});
