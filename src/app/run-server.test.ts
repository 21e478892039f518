import { test } from "node:test";
import assert from "node:assert/strict";
import { assertLoopback } from "./run-server.ts";

test("only loopback addresses are accepted without --allow-remote", () => {
  for (const host of ["127.0.0.1", "127.1.2.3", "::1", "localhost"]) assert.doesNotThrow(() => assertLoopback(host));
  for (const host of ["0.0.0.0", "192.168.1.10", "::", "example.com", "127.0.0.1.evil"]) assert.throws(() => assertLoopback(host), /without --allow-remote/);
});
