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

test("patch (merge, json, strategic), label and annotate with --overwrite, delete -f", async () => {
  await server.ok(["patch", "namespace", "mid", "-p", '{"metadata":{"labels":{"owner":"ops"}}}']);
  await server.ok(["patch", "namespace", "mid", "--type", "json", "-p", '[{"op":"add","path":"/metadata/labels/shift","value":"night"}]']);
  await server.ok(["patch", "namespace", "mid", "--type", "strategic", "-p", "metadata:\n  annotations:\n    note: hello\n"]);
  assert.equal(await server.ok(["get", "namespace", "mid", "-o", "jsonpath={.metadata.labels.owner}/{.metadata.labels.shift}/{.metadata.annotations.note}"]), "ops/night/hello");

  const clash = await server.cli(["label", "namespace", "mid", "owner=dev"]);
  assert.equal(clash.code, 2);
  assert.match(clash.stderr, /'owner' already has a value; pass --overwrite/);
  await server.ok(["label", "namespace", "mid", "owner=dev", "shift-", "--overwrite"]);
  await server.ok(["annotate", "namespace", "mid", "note-"]);
  const labels = JSON.parse(await server.ok(["get", "namespace", "mid", "-o", "jsonpath={.metadata}"])) as { labels: Record<string, string>; annotations?: Record<string, string> };
  assert.equal(labels.labels["owner"], "dev");
  assert.equal(labels.labels["shift"], undefined);
  assert.equal(labels.annotations?.["note"], undefined);

  const manifest = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: zeta\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: never-made\n";
  const missing = await server.cli(["delete", "-f", "-"], manifest);
  assert.equal(missing.code, 1, "an object that does not exist is an error");
  assert.match(missing.stdout, /"zeta" deleted/);
  assert.match(missing.stderr, /never-made/);
  assert.equal((await server.cli(["delete", "-f", "-", "--ignore-not-found"], manifest)).code, 0, "unless --ignore-not-found");
});
