import { test } from "node:test";
import assert from "node:assert/strict";
import { changePasswordStatements } from "./passwords.ts";
import { scramSha256Verifier } from "./scram.ts";

void test("a password change sends a SCRAM verifier, never the password, and keeps the statement out of the log", () => {
  const password = "Secret123Value";
  const statements = changePasswordStatements("kbmonitoring", scramSha256Verifier(password));
  assert.ok(statements.every((s) => !s.includes(password)));
  assert.match(statements.at(-1) ?? "", /^ALTER ROLE "kbmonitoring" PASSWORD 'SCRAM-SHA-256\$4096:/);
  assert.deepEqual(statements.slice(0, 2), ["SET LOCAL log_statement = 'none'", "SET LOCAL log_min_duration_statement = -1"]);
});
