import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { compareGtidPositions, formatGtidPosition, gtidContains, parseGtidPosition } from "./gtid.ts";

const p = (text: string): Map<number, { domain: number; server: number; sequence: bigint }> => {
  const parsed = parseGtidPosition(text);
  assert.ok(parsed !== undefined, text);
  return parsed;
};

void test("positions parse per domain, the highest sequence number winning, and print canonically", () => {
  assert.equal(formatGtidPosition(p("1-7-3, 0-1-5,0-2-9,")), "0-2-9,1-7-3");
  assert.equal(formatGtidPosition(p("")), "");
  assert.equal(parseGtidPosition("0-1"), undefined);
  assert.equal(parseGtidPosition("a-b-c"), undefined);
  assert.equal(parseGtidPosition(undefined), undefined);
  assert.equal(p("0-1-18446744073709551615").get(0)?.sequence, 18446744073709551615n, "64-bit sequence numbers are kept exactly");
});

void test("containment is per domain; the same sequence number from another server is another transaction", () => {
  assert.ok(gtidContains(p("0-1-10"), p("0-1-10")));
  assert.ok(gtidContains(p("0-2-11"), p("0-1-10")), "further in the domain");
  assert.ok(!gtidContains(p("0-1-9"), p("0-1-10")));
  assert.ok(!gtidContains(p("0-2-10"), p("0-1-10")), "diverged: two primaries wrote sequence number 10");
  assert.ok(!gtidContains(p("0-1-10"), p("0-1-10,1-3-1")), "a domain it never saw");
  assert.ok(gtidContains(p("0-1-10,1-3-1"), p("")), "everything holds the empty position");
});

void test("the most advanced position sorts first; incomparable ones by how much they hold", () => {
  assert.ok(compareGtidPositions(p("0-1-11"), p("0-1-10")) < 0);
  assert.ok(compareGtidPositions(p("0-1-10"), p("0-1-11")) > 0);
  assert.equal(compareGtidPositions(p("0-1-10"), p("0-1-10")), 0);
  assert.ok(compareGtidPositions(p("0-1-10,1-1-5"), p("0-1-10")) < 0, "an extra domain is more");
  assert.ok(compareGtidPositions(p("0-1-12,1-1-1"), p("0-1-10,1-1-2")) < 0, "incomparable: more transactions overall first");
});

void test("comparison is antisymmetric and a position is never behind one it contains (property)", () => {
  const position = fc.array(fc.record({ domain: fc.integer({ min: 0, max: 3 }), server: fc.integer({ min: 1, max: 3 }), sequence: fc.integer({ min: 1, max: 50 }) }), { maxLength: 4 })
    .map((gtids) => gtids.map((g) => `${g.domain}-${g.server}-${g.sequence}`).join(","));
  fc.assert(fc.property(position, position, (a, b) => {
    const [x, y] = [p(a), p(b)];
    assert.equal(Math.sign(compareGtidPositions(x, y)), -Math.sign(compareGtidPositions(y, x)) || 0);
    if (gtidContains(x, y)) assert.ok(compareGtidPositions(x, y) <= 0);
  }));
});
