import { test } from "node:test";
import assert from "node:assert/strict";
import { UsageError } from "./args.ts";
import { parseKeyChanges, parsePatch, wouldOverwrite } from "./patch.ts";

test("a patch is JSON or YAML, an object for merge and strategic, a list for json", () => {
  assert.deepEqual(parsePatch('{"spec":{"replicas":2}}', "merge"), { spec: { replicas: 2 } });
  assert.deepEqual(parsePatch("spec:\n  replicas: 2\n", "strategic"), { spec: { replicas: 2 } });
  assert.deepEqual(parsePatch('[{"op":"remove","path":"/spec/x"}]', "json"), [{ op: "remove", path: "/spec/x" }]);
  assert.throws(() => parsePatch('{"op":"remove"}', "json"), (e: unknown) => e instanceof UsageError && /list of operations/.test(e.message));
  assert.throws(() => parsePatch("[1]", "merge"), /is an object/);
  assert.throws(() => parsePatch("{unclosed", "merge"), /not valid JSON or YAML/);
});

test("KEY=VALUE sets, KEY- removes, anything else is refused", () => {
  assert.deepEqual(parseKeyChanges(["team=payments", "tier-", "url=a=b"], "label"), { team: "payments", tier: null, url: "a=b" });
  assert.throws(() => parseKeyChanges([], "label"), /at least one/);
  assert.throws(() => parseKeyChanges(["=x"], "label"), /neither KEY=VALUE nor KEY-/);
  assert.throws(() => parseKeyChanges(["plain"], "label"), /neither KEY=VALUE nor KEY-/);
});

test("only a changed existing value needs --overwrite", () => {
  assert.deepEqual(wouldOverwrite({ team: "a", tier: "gold" }, { team: "b", tier: "gold", new: "x", gone: null }), ["team"]);
  assert.deepEqual(wouldOverwrite(undefined, { team: "b" }), []);
});
