import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { storageProtectionCommands, usedMemory } from "./storage-protection.ts";

describe("Redis storage protection", () => {
  it("reads used_memory from INFO memory", () => {
    assert.equal(usedMemory("# Memory\r\nused_memory:1048576\r\nused_memory_human:1.00M\r\n"), 1048576);
    assert.equal(usedMemory("# Memory\r\n"), undefined);
    assert.equal(usedMemory(42), undefined);
  });

  it("refuses growth at the memory used now, without eviction", () => {
    assert.deepEqual(storageProtectionCommands(true, 5000, { maxmemory: "100000", "maxmemory-policy": "allkeys-lru" }), [
      ["CONFIG", "SET", "maxmemory-policy", "noeviction"],
      ["CONFIG", "SET", "maxmemory", "5000"],
    ]);
  });

  it("puts back the configured limits, or Redis' defaults", () => {
    assert.deepEqual(storageProtectionCommands(false, undefined, { maxmemory: "100000", "maxmemory-policy": "allkeys-lru" }), [
      ["CONFIG", "SET", "maxmemory", "100000"],
      ["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"],
    ]);
    assert.deepEqual(storageProtectionCommands(false, undefined, {}), [
      ["CONFIG", "SET", "maxmemory", "0"],
      ["CONFIG", "SET", "maxmemory-policy", "noeviction"],
    ]);
  });
});
