import { test } from "node:test";
import assert from "node:assert/strict";
import { NAMESPACE_FLAGS, UsageError, expectPositionals, hoistGlobalFlags, intFlag, namespaceOf, parseDuration, parseFlags, stringFlag } from "./args.ts";

test("parseFlags reads short and long flags and positionals", () => {
  const args = parseFlags(["clusters", "-n", "demo", "--server=http://x:1", "pg"], NAMESPACE_FLAGS, "get");
  assert.deepEqual(args.positionals, ["clusters", "pg"]);
  assert.equal(stringFlag(args.values, "namespace"), "demo");
  assert.equal(stringFlag(args.values, "server"), "http://x:1");
  assert.equal(namespaceOf(args.values), "demo");
});

test("parseFlags turns unknown flags and missing values into usage errors naming the command", () => {
  assert.throws(() => parseFlags(["--bogus"], {}, "get"), (error: unknown) => error instanceof UsageError && error.command === "get" && /bogus/.test(error.message));
  assert.throws(() => parseFlags(["-n"], NAMESPACE_FLAGS, "get"), UsageError);
});

test("namespace defaults to default", () => {
  assert.equal(namespaceOf(parseFlags([], NAMESPACE_FLAGS, "get").values), "default");
});

test("parseDuration understands Go-style durations and bare seconds", () => {
  assert.equal(parseDuration("300s"), 300_000);
  assert.equal(parseDuration("5m"), 300_000);
  assert.equal(parseDuration("1h30m"), 5_400_000);
  assert.equal(parseDuration("1500ms"), 1500);
  assert.equal(parseDuration("0.5s"), 500);
  assert.equal(parseDuration("45"), 45_000);
  for (const bad of ["", "s", "5x", "5m junk", "-1s"]) assert.throws(() => parseDuration(bad), UsageError, bad);
});

test("intFlag rejects non-numbers", () => {
  const values = parseFlags(["--replicas", "two"], { replicas: { type: "string" } }, "cluster create").values;
  assert.throws(() => intFlag(values, "replicas", 1, "cluster create"), /whole number/);
  assert.equal(intFlag({}, "replicas", 3, "x"), 3);
});

test("expectPositionals reports what is missing or extra", () => {
  assert.throws(() => expectPositionals({ values: {}, positionals: [] }, ["NAME"], "cluster connect"), /missing NAME/);
  assert.throws(() => expectPositionals({ values: {}, positionals: ["a", "b"] }, ["NAME"], "cluster connect"), /unexpected argument "b"/);
  assert.deepEqual(expectPositionals({ values: {}, positionals: ["a"] }, ["NAME"], "x"), ["a"]);
});

test("hoistGlobalFlags moves leading global flags after the command words", () => {
  assert.deepEqual(hoistGlobalFlags(["-n", "demo", "get", "clusters", "-o", "yaml"]), ["get", "clusters", "-n", "demo", "-o", "yaml"]);
  assert.deepEqual(hoistGlobalFlags(["--server=http://h:1", "cluster", "connect", "pg"]), ["cluster", "connect", "pg", "--server=http://h:1"]);
  assert.deepEqual(hoistGlobalFlags(["get", "clusters"]), ["get", "clusters"]);
  assert.deepEqual(hoistGlobalFlags(["--help"]), ["--help"]);
});
