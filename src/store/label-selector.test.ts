import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { InputError } from "../errors/index.ts";
import { matchesLabelSelector, parseLabelSelector } from "./label-selector.ts";

const labels = { app: "pg", tier: "db", "apps.kubeblocks.io/component": "postgresql", replicas: "3", empty: "" };

function matches(selector: string, on: Record<string, string> | undefined = labels): boolean {
  return matchesLabelSelector(parseLabelSelector(selector), on);
}

describe("parseLabelSelector", () => {
  it("parses every operator", () => {
    assert.deepEqual(parseLabelSelector("a=b, c==d,e!=f, g in (h, i), j notin (k), l, !m, n>1, o<-2"), [
      { key: "a", operator: "Equals", values: ["b"] },
      { key: "c", operator: "Equals", values: ["d"] },
      { key: "e", operator: "NotEquals", values: ["f"] },
      { key: "g", operator: "In", values: ["h", "i"] },
      { key: "j", operator: "NotIn", values: ["k"] },
      { key: "l", operator: "Exists", values: [] },
      { key: "m", operator: "DoesNotExist", values: [] },
      { key: "n", operator: "GreaterThan", values: ["1"] },
      { key: "o", operator: "LessThan", values: ["-2"] },
    ]);
  });

  it("treats an empty selector as matching everything", () => {
    assert.deepEqual(parseLabelSelector(""), []);
    assert.deepEqual(parseLabelSelector("   "), []);
    assert.equal(matches(""), true);
    assert.equal(matches("", undefined), true);
  });

  it("accepts prefixed keys and empty values", () => {
    assert.deepEqual(parseLabelSelector("apps.kubeblocks.io/component=postgresql,x="), [
      { key: "apps.kubeblocks.io/component", operator: "Equals", values: ["postgresql"] },
      { key: "x", operator: "Equals", values: [""] },
    ]);
  });

  for (const bad of ["a=b,", ",a", "a in (b", "a in b", "a in ()", "a notin (b,)", "!", "a b", "a=(b)", "a=b=c", "-a=b", "a>b", "a===b", "UPPER/x=y", "a=b c"]) {
    it(`rejects ${JSON.stringify(bad)} with an InputError naming it`, () => {
      assert.throws(
        () => parseLabelSelector(bad),
        (error: unknown) => error instanceof InputError && error.message.includes(`"${bad}"`),
      );
    });
  }
});

describe("matchesLabelSelector", () => {
  const cases: [string, boolean][] = [
    ["app=pg", true],
    ["app==pg", true],
    ["app=redis", false],
    ["missing=x", false],
    ["app!=redis", true],
    ["app!=pg", false],
    ["missing!=x", true],
    ["tier in (db,cache)", true],
    ["tier in (cache)", false],
    ["missing in (x)", false],
    ["tier notin (cache)", true],
    ["tier notin (db)", false],
    ["missing notin (x)", true],
    ["app", true],
    ["missing", false],
    ["!missing", true],
    ["!app", false],
    ["empty=", true],
    ["empty", true],
    ["replicas>2", true],
    ["replicas>3", false],
    ["replicas<4", true],
    ["app>1", false],
    ["apps.kubeblocks.io/component=postgresql", true],
    ["app=pg,tier=db", true],
    ["app=pg,tier=cache", false],
  ];
  for (const [selector, expected] of cases) {
    it(`${selector} → ${expected}`, () => assert.equal(matches(selector), expected));
  }
});
