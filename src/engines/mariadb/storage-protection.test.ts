import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { storageProtectionStatement } from "./storage-protection.ts";

describe("MariaDB storage protection", () => {
  it("changes the default access mode of new sessions, never read_only (the role probe reads it)", () => {
    assert.equal(storageProtectionStatement(true), "SET GLOBAL TRANSACTION READ ONLY");
    assert.equal(storageProtectionStatement(false), "SET GLOBAL TRANSACTION READ WRITE");
    assert.doesNotMatch(storageProtectionStatement(true), /read_only/i);
  });
});
