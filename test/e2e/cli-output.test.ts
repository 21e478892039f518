/**
 * `holdfast get` output formats as kubectl has them, against a real server: -o jsonpath, -o custom-columns,
 * --sort-by and --show-labels (namespaces: no database needed).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { TestServer } from "../helpers/harness.ts";

let server: TestServer;

before(async () => {
  server = await TestServer.start();
  for (const [name, tier] of [["zeta", "gold"], ["alpha", "bronze"], ["mid", "silver"]] as const) {
    await server.ok(["apply", "-f", "-"], `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n  labels:\n    tier: ${tier}\n`);
  }
});

after(async () => {
  await server.destroy();
});

test("-o jsonpath with a filter prints the selected names; with range, one line each", async () => {
  assert.equal(await server.ok(["get", "namespaces", "-o", 'jsonpath={.items[?(@.metadata.labels.tier=="gold")].metadata.name}']), "zeta");
  const lines = (await server.ok(["get", "namespaces", "-l", "tier", "-o", 'jsonpath={range .items[*]}{.metadata.name}={.metadata.labels.tier}{"\\n"}{end}'])).trim().split("\n");
  assert.deepEqual(lines.sort(), ["alpha=bronze", "mid=silver", "zeta=gold"]);
  assert.equal(await server.ok(["get", "namespace", "mid", "-o", "jsonpath={.metadata.labels.tier}"]), "silver", "one object: the template applies to it, not to a List");
});

test("-o custom-columns with --sort-by, and --show-labels", async () => {
  const table = await server.ok(["get", "namespaces", "-l", "tier", "-o", "custom-columns=NAME:.metadata.name,TIER:.metadata.labels.tier", "--sort-by=.metadata.labels.tier"]);
  assert.deepEqual(table.trim().split("\n").map((line) => line.split(/\s+/)), [["NAME", "TIER"], ["alpha", "bronze"], ["zeta", "gold"], ["mid", "silver"]]);
  const labelled = await server.ok(["get", "namespace", "zeta", "--show-labels"]);
  assert.match(labelled.split("\n")[0] ?? "", /LABELS$/);
  assert.match(labelled, /zeta\s+.*tier=gold/);
});

test("a bad template is a usage error naming the problem, before any request", async () => {
  const result = await server.cli(["get", "namespaces", "-o", "jsonpath={.items[*"]);
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /invalid jsonpath template .*unclosed/);
});
