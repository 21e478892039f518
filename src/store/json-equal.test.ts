import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { jsonEqual } from "./json-equal.ts";

/** The definition jsonEqual must agree with: JSON text with object keys sorted. */
function sortedJson(value: unknown): string {
  return JSON.stringify(value, (_key, field: unknown) => {
    if (field === null || typeof field !== "object" || Array.isArray(field)) return field;
    const sorted: Record<string, unknown> = {};
    for (const name of Object.keys(field).sort()) sorted[name] = (field as Record<string, unknown>)[name];
    return sorted;
  });
}

/** The same value with every object's keys in reverse order. */
function reversedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversedKeys);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(Object.entries(value).reverse().map(([key, field]) => [key, reversedKeys(field)]));
}

const json = fc.jsonValue({ maxDepth: 4 });

describe("jsonEqual", () => {
  it("agrees with comparing key-sorted JSON text", () => {
    fc.assert(fc.property(json, json, (a, b) => jsonEqual(a, b) === (sortedJson(a) === sortedJson(b))), { numRuns: 2000 });
  });

  it("ignores key order", () => {
    fc.assert(fc.property(json, (a) => jsonEqual(a, reversedKeys(a)) && jsonEqual(reversedKeys(a), a)));
  });

  it("tells apart values that differ in one nested field", () => {
    const spec = { componentSpecs: [{ name: "postgresql", replicas: 1, resources: { limits: { cpu: "1" } } }] };
    assert.equal(jsonEqual(spec, { componentSpecs: [{ name: "postgresql", replicas: 2, resources: { limits: { cpu: "1" } } }] }), false);
    assert.equal(jsonEqual(spec, { componentSpecs: [{ name: "postgresql", replicas: 1, resources: { limits: {} } }] }), false);
    assert.equal(jsonEqual(spec, { componentSpecs: [] }), false);
    assert.equal(jsonEqual({ a: [1] }, { a: { 0: 1 } }), false);
    assert.equal(jsonEqual({ a: null }, {}), false);
    assert.equal(jsonEqual({ a: "1" }, { a: 1 }), false);
  });

  it("treats an undefined field as absent, as JSON does", () => {
    assert.equal(jsonEqual({ a: 1, b: undefined }, { a: 1 }), true);
    assert.equal(jsonEqual({ a: 1 }, { a: 1, b: undefined }), true);
    assert.equal(jsonEqual({ a: undefined }, { b: undefined }), true);
    assert.equal(jsonEqual([undefined], [null]), true);
  });
});
