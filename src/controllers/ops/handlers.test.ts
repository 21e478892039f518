import { test } from "node:test";
import assert from "node:assert/strict";
import { SUPPORTED_OPS_TYPES } from "../../api/index.ts";
import type { OpsServices } from "./handler.ts";
import { opsHandlers } from "./handlers.ts";

void test("every supported type has its handler, and no handler serves a type admission refuses", () => {
  const handlers = opsHandlers({} as OpsServices);
  assert.deepEqual([...handlers.keys()].sort(), [...SUPPORTED_OPS_TYPES].sort());
});
