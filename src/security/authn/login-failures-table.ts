/** Rows of the login_failures table. */
import type { DatabaseSync } from "node:sqlite";
import { integer, optionalInteger } from "./auth-database.ts";
import type { CounterKey } from "./auth-backend.ts";
import type { FailureCounter } from "./throttle.ts";

// Earlier versions also kept an address-wide "source" counter; such rows are no longer read.

/** The counter at `at`, if any. */
export function readCounter(db: DatabaseSync, at: CounterKey): FailureCounter | undefined {
  const row = db.prepare("SELECT failures, last_failure_at, locked_until FROM login_failures WHERE scope = ? AND key = ?").get(at.scope, at.key);
  if (row === undefined) return undefined;
  const counter: FailureCounter = { failures: integer(row, "failures"), lastFailureAt: integer(row, "last_failure_at") };
  const lockedUntil = optionalInteger(row, "locked_until");
  if (lockedUntil !== undefined) counter.lockedUntil = lockedUntil;
  return counter;
}

/** Store `counter` at `at`, or remove the counter when it is undefined. */
export function writeCounter(db: DatabaseSync, at: CounterKey, counter: FailureCounter | undefined): void {
  if (counter === undefined) {
    db.prepare("DELETE FROM login_failures WHERE scope = ? AND key = ?").run(at.scope, at.key);
    return;
  }
  db.prepare(
    `INSERT INTO login_failures (scope, key, failures, last_failure_at, locked_until) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (scope, key) DO UPDATE SET failures = excluded.failures, last_failure_at = excluded.last_failure_at, locked_until = excluded.locked_until`,
  ).run(at.scope, at.key, counter.failures, counter.lastFailureAt, counter.lockedUntil ?? null);
}
