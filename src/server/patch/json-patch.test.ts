import { test } from "node:test";
import assert from "node:assert/strict";
import { InputError, InvalidError } from "../../errors/index.ts";
import { applyJsonPatch, parseJsonPatch } from "./json-patch.ts";

const cluster = { spec: { terminationPolicy: "Delete", componentSpecs: [{ name: "pg", replicas: 1 }] }, metadata: { labels: { "a/b": "x" } } };

test("add, replace, remove, move and copy follow RFC 6902", () => {
  const patched = applyJsonPatch(
    cluster,
    parseJsonPatch([
      { op: "replace", path: "/spec/componentSpecs/0/replicas", value: 3 },
      { op: "add", path: "/spec/componentSpecs/-", value: { name: "b", replicas: 1 } },
      { op: "add", path: "/spec/componentSpecs/0/labels", value: {} },
      { op: "copy", from: "/spec/terminationPolicy", path: "/spec/copied" },
      { op: "move", from: "/spec/copied", path: "/metadata/moved" },
      { op: "remove", path: "/metadata/labels/a~1b" },
    ]),
  );
  assert.deepEqual(patched, {
    spec: { terminationPolicy: "Delete", componentSpecs: [{ name: "pg", replicas: 3, labels: {} }, { name: "b", replicas: 1 }] },
    metadata: { labels: {}, moved: "Delete" },
  });
  assert.equal(cluster.spec.componentSpecs[0]?.replicas, 1, "the target is not modified");
});

test("a test that matches lets the patch go on; one that does not is a 422 naming the operation, and nothing applies", () => {
  const ok = applyJsonPatch(cluster, parseJsonPatch([{ op: "test", path: "/spec/componentSpecs/0", value: { replicas: 1, name: "pg" } }, { op: "replace", path: "/spec/terminationPolicy", value: "WipeOut" }]));
  assert.equal((ok as typeof cluster).spec.terminationPolicy, "WipeOut");
  assert.throws(
    () => applyJsonPatch(cluster, parseJsonPatch([{ op: "replace", path: "/spec/terminationPolicy", value: "WipeOut" }, { op: "test", path: "/spec/terminationPolicy", value: "Delete" }])),
    (error: unknown) => error instanceof InvalidError && /operation 1 \(test \/spec\/terminationPolicy\) failed: the value is "WipeOut", not "Delete"/.test(error.message),
  );
});

test("paths that do not exist, bad indices and malformed operations are refused", () => {
  assert.throws(() => applyJsonPatch(cluster, parseJsonPatch([{ op: "replace", path: "/spec/nothing", value: 1 }])), InvalidError);
  assert.throws(() => applyJsonPatch(cluster, parseJsonPatch([{ op: "remove", path: "/spec/componentSpecs/01" }])), InvalidError);
  assert.throws(() => applyJsonPatch(cluster, parseJsonPatch([{ op: "add", path: "/spec/componentSpecs/5", value: 1 }])), InvalidError);
  assert.throws(() => applyJsonPatch(cluster, parseJsonPatch([{ op: "move", from: "/spec", path: "/spec/inner" }])), InvalidError);
  assert.throws(() => parseJsonPatch({ op: "add" }), InputError);
  assert.throws(() => parseJsonPatch([{ op: "frobnicate", path: "/a" }]), InputError);
  assert.throws(() => applyJsonPatch(cluster, parseJsonPatch([{ op: "add", path: "spec", value: 1 }])), InputError);
});

test("a __proto__ key is added as data", () => {
  const patched = applyJsonPatch({}, parseJsonPatch([{ op: "add", path: "/__proto__", value: { polluted: true } }])) as Record<string, unknown>;
  assert.deepEqual(Object.keys(patched), ["__proto__"]);
  assert.equal(({} as Record<string, unknown>)["polluted"], undefined);
});
