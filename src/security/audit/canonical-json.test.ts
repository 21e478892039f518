import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { canonicalJson } from "./canonical-json.ts";

describe("canonicalJson", () => {
  it("sorts keys at every depth and drops undefined members", () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [1, { z: null, y: "x" }], c: undefined } }), '{"a":{"d":[1,{"y":"x","z":null}]},"b":1}');
  });

  it("is the same for any key order and parses back to the same value", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(value)));
        assert.equal(canonicalJson(JSON.parse(text)), text);
        const reversed = JSON.parse(JSON.stringify(value, (_key, member: unknown) =>
          member !== null && typeof member === "object" && !Array.isArray(member) ? Object.fromEntries(Object.entries(member).reverse()) : member));
        assert.equal(canonicalJson(reversed), text);
      }),
    );
  });
});
