import assert from "node:assert/strict";
import { test } from "node:test";
import { ancestorsOf } from "./traversable.ts";

void test("ancestorsOf lists the path and its ancestors, outermost first", () => {
  assert.deepEqual(ancestorsOf("/root/.holdfast/instances"), ["/", "/root", "/root/.holdfast", "/root/.holdfast/instances"]);
  assert.deepEqual(ancestorsOf("/"), ["/"]);
});
