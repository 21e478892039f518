import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openAuthDatabase, prepared } from "./auth-database.ts";

test("a lookup's statement is prepared once per database and answers from the current rows", () => {
  const directory = mkdtempSync(join(tmpdir(), "holdfast-authdb-"));
  try {
    const first = openAuthDatabase(join(directory, "a.db"));
    const second = openAuthDatabase(join(directory, "b.db"));
    const sql = "SELECT username FROM users WHERE username = ?";
    assert.equal(prepared(first, sql), prepared(first, sql));
    assert.notEqual(prepared(first, sql), prepared(second, sql));
    assert.equal(prepared(first, sql).get("ann"), undefined);
    first.prepare("INSERT INTO users (username, groups, password_hash, totp_secret, created_at) VALUES ('ann', '[]', 'x', 'y', 1)").run();
    assert.deepEqual({ ...prepared(first, sql).get("ann") }, { username: "ann" });
    first.close();
    second.close();
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});
