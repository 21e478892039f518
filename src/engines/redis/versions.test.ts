import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseRedisVersion } from "./versions.ts";

describe("parseRedisVersion", () => {
  it("reads redis-server --version", () => {
    assert.deepEqual(parseRedisVersion("Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=ae4d7c971a948f0", "/usr/bin"), {
      version: "7.0.15",
      major: "7",
      binDir: "/usr/bin",
    });
  });

  it("returns undefined for anything else", () => {
    assert.equal(parseRedisVersion("KeyDB server v?", "/usr/bin"), undefined);
  });
});
