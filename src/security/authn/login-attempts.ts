/** Stored failure counters, and the atomic admit-and-count step every login attempt starts with. */
import type { DatabaseSync } from "node:sqlite";
import { inTransaction, integer, optionalInteger } from "./auth-database.ts";
import type { ThrottlePolicy } from "./policy.ts";
import { addFailure, decideAttempt, type AttemptDecision, type FailureCounter } from "./throttle.ts";

/** Who is attempting: the source address, and the account when it exists (unknown names get no account counter). */
export interface AttemptKey {
  source: string;
  username: string | undefined;
}

// Earlier versions also kept an address-wide "source" counter; such rows are no longer read.
type Scope = "unknown" | "account" | "pair";

/**
 * Decide whether the attempt may proceed and, if so, count it as a failure before it is evaluated. Counting first
 * means concurrent attempts cannot all slip through the same open window: the second one already sees the first's
 * failure. A success then resets the counters (`recordSuccess`).
 */
export function admitAttempt(db: DatabaseSync, key: AttemptKey, now: number, policy: ThrottlePolicy): AttemptDecision {
  return inTransaction(db, () => {
    if (key.username === undefined) {
      const bucket = readCounter(db, "unknown", key.source);
      const decision = decideAttempt({ kind: "unknown", bucket }, now, policy);
      if (decision.kind !== "wait") writeCounter(db, "unknown", key.source, addFailure(bucket, now, policy, false));
      return decision;
    }
    const pairKey = pairKeyOf(key.username, key.source);
    const account = readCounter(db, "account", key.username);
    const pair = readCounter(db, "pair", pairKey);
    const decision = decideAttempt({ kind: "account", account, pair }, now, policy);
    if (decision.kind === "wait") return decision;
    writeCounter(db, "account", key.username, addFailure(account, now, policy, true));
    writeCounter(db, "pair", pairKey, addFailure(pair, now, policy, false));
    return decision;
  });
}

/** Clear the counters of a successful attempt: the account and its pair with the source. */
export function recordSuccess(db: DatabaseSync, key: AttemptKey): void {
  if (key.username === undefined) return;
  const username = key.username;
  inTransaction(db, () => {
    const remove = db.prepare("DELETE FROM login_failures WHERE scope = ? AND key = ?");
    remove.run("account", username);
    remove.run("pair", pairKeyOf(username, key.source));
  });
}

/** The account's failure counter, for listings and audit. */
export function accountCounter(db: DatabaseSync, username: string): FailureCounter | undefined {
  return readCounter(db, "account", username);
}

function pairKeyOf(username: string, source: string): string {
  return JSON.stringify([username, source]);
}

function readCounter(db: DatabaseSync, scope: Scope, key: string): FailureCounter | undefined {
  const row = db.prepare("SELECT failures, last_failure_at, locked_until FROM login_failures WHERE scope = ? AND key = ?").get(scope, key);
  if (row === undefined) return undefined;
  const counter: FailureCounter = { failures: integer(row, "failures"), lastFailureAt: integer(row, "last_failure_at") };
  const lockedUntil = optionalInteger(row, "locked_until");
  if (lockedUntil !== undefined) counter.lockedUntil = lockedUntil;
  return counter;
}

function writeCounter(db: DatabaseSync, scope: Scope, key: string, counter: FailureCounter): void {
  db.prepare(
    `INSERT INTO login_failures (scope, key, failures, last_failure_at, locked_until) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (scope, key) DO UPDATE SET failures = excluded.failures, last_failure_at = excluded.last_failure_at, locked_until = excluded.locked_until`,
  ).run(scope, key, counter.failures, counter.lastFailureAt, counter.lockedUntil ?? null);
}
