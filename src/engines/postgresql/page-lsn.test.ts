import assert from "node:assert/strict";
import { test } from "node:test";
import { isMainForkSegment, PAGE_SIZE, pagesOlderThan, unchangedSince, type PageLsnBasis } from "./page-lsn.ts";

/** Pages with the given LSNs (high, low), initialised (pd_upper set) unless `upper` is 0. */
function pages(lsns: Array<[number, number]>, upper = 8000): Buffer {
  const data = Buffer.alloc(lsns.length * PAGE_SIZE, 0x5a);
  lsns.forEach(([high, low], index) => {
    data.writeUInt32LE(high, index * PAGE_SIZE);
    data.writeUInt32LE(low, index * PAGE_SIZE + 4);
    data.writeUInt16LE(upper, index * PAGE_SIZE + 14);
  });
  return data;
}

const basis: PageLsnBasis = { startLsn: "2/5000028", timeline: "1", systemIdentifier: "7390000000000000001", incarnation: "abc" };

test("a block is old only when every page is initialised with an LSN above 0 and before the parent's start", () => {
  const before = { high: 1, low: 0x3000000 };
  assert.equal(pagesOlderThan(pages([[0, 0x100], [1, 0x2ffffff]]), before), true);
  assert.equal(pagesOlderThan(pages([[0, 0x100], [1, 0x3000000]]), before), false, "a page at the start LSN changed");
  assert.equal(pagesOlderThan(pages([[0, 0x100], [2, 0]]), before), false, "a later high half");
  assert.equal(pagesOlderThan(pages([[0, 0]]), before), false, "an LSN of 0 is not trusted");
  assert.equal(pagesOlderThan(pages([[0, 0x100]], 0), before), false, "a zeroed (new) page says nothing");
  assert.equal(pagesOlderThan(Buffer.alloc(0), before), false);
  assert.equal(pagesOlderThan(pages([[0, 0x100]]).subarray(0, 4096), before), false, "not whole pages");
});

test("only main-fork segments of permanent relations are judged by page LSN", () => {
  for (const file of ["base/5/16384", "base/5/16384.2", "global/1262"]) assert.equal(isMainForkSegment(file), true, file);
  for (const file of ["base/5/16384_fsm", "base/5/16384_vm", "base/5/16384_init", "pg_xact/0000", "base/5/PG_VERSION", "global/pg_control", "base/5/t3_16390"]) {
    assert.equal(isMainForkSegment(file), false, file);
  }
});

test("the parent must be of the same incarnation, timeline and system, and start before this backup", () => {
  const parent = { ...basis, startLsn: "1/3000000" };
  const test1 = unchangedSince(basis, parent);
  assert.ok(test1 !== undefined);
  assert.equal(test1("base/5/16384", 0, pages([[1, 0x2000000]])), true);
  assert.equal(test1("base/5/16384", 4096, pages([[1, 0x2000000]])), false, "not at a page boundary");
  assert.equal(test1("base/5/16384_vm", 0, pages([[1, 0x2000000]])), false, "the VM changes without its LSN");
  assert.equal(test1("base/5/16384", 0, pages([[1, 0x3000000]])), false);
  assert.equal(unchangedSince(basis, { ...parent, incarnation: "other" }), undefined, "a restored data directory");
  assert.equal(unchangedSince(basis, { ...parent, timeline: "2" }), undefined, "a promotion");
  assert.equal(unchangedSince(basis, { ...parent, systemIdentifier: "1" }), undefined, "another cluster");
  assert.equal(unchangedSince(basis, { ...parent, startLsn: "3/0" }), undefined, "a parent after this backup");
  assert.equal(unchangedSince(basis, { ...parent, startLsn: "nonsense" }), undefined);
  assert.equal(unchangedSince(basis, { timeline: "1" }), undefined, "a parent taken by pg_basebackup");
});
