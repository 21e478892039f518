import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseWarningHeader, warningLines } from "./warnings.ts";

describe("parseWarningHeader", () => {
  it("reads the texts of a Kubernetes Warning header, escapes and lists included", () => {
    assert.deepEqual(parseWarningHeader(`299 - "unknown field \\"spec.foo\\""`), ['unknown field "spec.foo"']);
    assert.deepEqual(parseWarningHeader(`299 - "a, b", 299 - "c"`), ["a, b", "c"]);
    assert.deepEqual(parseWarningHeader(null), []);
    assert.deepEqual(parseWarningHeader("garbage"), []);
  });

  it("prints them as kubectl does", () => {
    assert.equal(warningLines(['unknown field "spec.foo"']), 'Warning: unknown field "spec.foo"\n');
  });
});
