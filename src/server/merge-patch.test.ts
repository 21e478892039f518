import { test } from "node:test";
import assert from "node:assert/strict";
import { applyMergePatch } from "./merge-patch.ts";

// The examples of RFC 7386 appendix A.
const RFC_CASES: [unknown, unknown, unknown][] = [
  [{ a: "b" }, { a: "c" }, { a: "c" }],
  [{ a: "b" }, { b: "c" }, { a: "b", b: "c" }],
  [{ a: "b" }, { a: null }, {}],
  [{ a: "b", b: "c" }, { a: null }, { b: "c" }],
  [{ a: ["b"] }, { a: "c" }, { a: "c" }],
  [{ a: "c" }, { a: ["b"] }, { a: ["b"] }],
  [{ a: { b: "c" } }, { a: { b: "d", c: null } }, { a: { b: "d" } }],
  [{ a: [{ b: "c" }] }, { a: [1] }, { a: [1] }],
  [["a", "b"], ["c", "d"], ["c", "d"]],
  [{ a: "b" }, ["c"], ["c"]],
  [{ a: "foo" }, null, null],
  [{ a: "foo" }, "bar", "bar"],
  [{ e: null }, { a: 1 }, { e: null, a: 1 }],
  [[1, 2], { a: "b", c: null }, { a: "b" }],
  [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
];

void test("applyMergePatch follows every example of RFC 7386", () => {
  for (const [target, patch, expected] of RFC_CASES) {
    assert.deepEqual(applyMergePatch(target, patch), expected, `${JSON.stringify(target)} + ${JSON.stringify(patch)}`);
  }
});

void test("applyMergePatch leaves the target untouched", () => {
  const target = { spec: { replicas: 1, nested: { keep: true } } };
  const patched = applyMergePatch(target, { spec: { replicas: 3, nested: { keep: null } } });
  assert.deepEqual(target, { spec: { replicas: 1, nested: { keep: true } } });
  assert.deepEqual(patched, { spec: { replicas: 3, nested: {} } });
});

void test("applyMergePatch replaces arrays instead of merging them", () => {
  const patched = applyMergePatch({ list: [{ a: 1 }, { b: 2 }] }, { list: [{ c: 3 }] });
  assert.deepEqual(patched, { list: [{ c: 3 }] });
});

void test("applyMergePatch keeps a __proto__ key as data", () => {
  const patch = JSON.parse('{"__proto__": {"polluted": true}}') as unknown;
  const patched = applyMergePatch({}, patch) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(patched), Object.prototype);
  assert.deepEqual(Object.getOwnPropertyDescriptor(patched, "__proto__")?.value, { polluted: true });
});
