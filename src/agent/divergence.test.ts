import { test } from "node:test";
import assert from "node:assert/strict";
import { worthAskingIfDiverged } from "./divergence.ts";

test("the first repoint at a new upstream is always tried before asking", () => {
  assert.equal(worthAskingIfDiverged(0, true), false);
});

test("a replica still not streaming after a repoint is asked about", () => {
  assert.equal(worthAskingIfDiverged(1, true), true);
  assert.equal(worthAskingIfDiverged(4, true), true);
});

test("an engine that cannot tell is never asked", () => {
  assert.equal(worthAskingIfDiverged(3, false), false);
});
