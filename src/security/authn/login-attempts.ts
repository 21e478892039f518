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

type Scope = "source" | "account" | "pair";

/**
 * Decide whether the attempt may proceed and, if so, count it as a failure before it is evaluated. Counting first
 * means concurrent attempts cannot all slip through the same open window: the second one already sees the first's
 * failure. A success then resets the counters (`recordSuccess`).
 */
export function admitAttempt(db: DatabaseSync, key: AttemptKey, now: number, policy: ThrottlePolicy): AttemptDecision {
  return inTransaction(db, () => {
    const keys = scopedKeys(key);
    const counters = {
      source: readCounter(db, "source", keys.source),
      account: keys.account === undefined ? undefined : readCounter(db, "account", keys.account),
      pair: keys.pair === undefined ? undefined : readCounter(db, "pair", keys.pair),
    };
    const decision = decideAttempt(counters, now, policy);
    if (decision.kind === "wait") return decision;
    writeCounter(db, "source", keys.source, addFailure(counters.source, now, policy, false));
    if (keys.account !== undefined) writeCounter(db, "account", keys.account, addFailure(counters.account, now, policy, true));
    if (keys.pair !== undefined) writeCounter(db, "pair", keys.pair, addFailure(counters.pair, now, policy, false));
    return decision;
  });
}

/** Clear the counters of a successful attempt: the account, the source, and their pair. */
export function recordSuccess(db: DatabaseSync, key: AttemptKey): void {
  const keys = scopedKeys(key);
  inTransaction(db, () => {
    const remove = db.prepare("DELETE FROM login_failures WHERE scope = ? AND key = ?");
    remove.run("source", keys.source);
    if (keys.account !== undefined) remove.run("account", keys.account);
    if (keys.pair !== undefined) remove.run("pair", keys.pair);
  });
}

/** The account's failure counter, for listings and audit. */
export function accountCounter(db: DatabaseSync, username: string): FailureCounter | undefined {
  return readCounter(db, "account", username);
}

function scopedKeys(key: AttemptKey): { source: string; account: string | undefined; pair: string | undefined } {
  if (key.username === undefined) return { source: key.source, account: undefined, pair: undefined };
  return { source: key.source, account: key.username, pair: JSON.stringify([key.username, key.source]) };
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
