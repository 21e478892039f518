/**
 * Login throttling. Failures are counted per account, per (account, source address), and, for user names that do not
 * exist, in one bucket per source address.
 *
 * - Failure n on a counter imposes a wait of min(base * 2^(n-1), max) seconds (1 s, 2 s, 4 s … 15 min by default)
 *   before the next attempt it governs is even evaluated; an attempt made earlier is answered 429 with Retry-After
 *   and is not counted.
 * - An attempt on an existing account is governed by its (account, source) counter only, never by what the same
 *   address did to other names: all local users share 127.0.0.1, and failures for made-up or other users' names
 *   must not keep a user with the right password and TOTP code out.
 * - After 10 consecutive failures the account is locked for 15 minutes. The account's delay and lock apply only to
 *   sources that have themselves failed against that account since its last success (OWASP: lock out by account
 *   and source). Otherwise one attacker could keep a user locked out forever by failing every 15 minutes; with this
 *   rule the real user, from an address that has not failed, still signs in. A distributed attacker gets one
 *   attempt per fresh address per account before that address is caught by the lock, and a password alone never
 *   suffices: TOTP is mandatory.
 * - Attempts on names that do not exist share their source's unknown-name bucket, so spraying made-up names from one
 *   address is slowed (and the argon2 work they cost stays bounded) without touching any real account.
 * - A success resets the account's counter and its pair.
 * - A counter with no failure for `forgetAfterSeconds` (a day) is forgotten, so old typos never add up to a lock.
 *
 * The functions here are pure; login-attempts.ts stores the counters.
 */
import type { ThrottlePolicy } from "./policy.ts";

/** Consecutive failures on one key. */
export interface FailureCounter {
  failures: number;
  /** Unix milliseconds of the latest failure. */
  lastFailureAt: number;
  /** Unix milliseconds until which the account is locked (account counters only). */
  lockedUntil?: number;
}

/** The counters that bear on one attempt: an existing account's and its pair's, or the source's unknown-name bucket. */
export type AttemptCounters =
  | { kind: "account"; account?: FailureCounter | undefined; pair?: FailureCounter | undefined }
  | { kind: "unknown"; bucket?: FailureCounter | undefined };

/** Whether an attempt may be evaluated now. */
export type AttemptDecision = { kind: "evaluate" } | { kind: "wait"; retryAfterSeconds: number } | { kind: "locked" };

/** The counter still in force at `now`, or undefined when it has been forgotten. */
export function activeCounter(counter: FailureCounter | undefined, now: number, policy: ThrottlePolicy): FailureCounter | undefined {
  if (counter === undefined || counter.failures < 1) return undefined;
  const forgetAt = Math.max(counter.lastFailureAt + policy.forgetAfterSeconds * 1000, counter.lockedUntil ?? 0);
  return now < forgetAt ? counter : undefined;
}

/** The wait after `failures` consecutive failures. */
export function delaySeconds(failures: number, policy: ThrottlePolicy): number {
  if (failures < 1) return 0;
  return Math.min(policy.baseDelaySeconds * 2 ** (failures - 1), policy.maxDelaySeconds);
}

/** Whole seconds left before `counter` allows another attempt (0 when it allows one now). */
export function waitSeconds(counter: FailureCounter | undefined, now: number, policy: ThrottlePolicy): number {
  const active = activeCounter(counter, now, policy);
  if (active === undefined) return 0;
  const readyAt = active.lastFailureAt + delaySeconds(active.failures, policy) * 1000;
  return readyAt > now ? Math.ceil((readyAt - now) / 1000) : 0;
}

/** Decide whether an attempt is evaluated, must wait, or meets the account lock. */
export function decideAttempt(counters: AttemptCounters, now: number, policy: ThrottlePolicy): AttemptDecision {
  if (counters.kind === "unknown") return waitOrEvaluate(waitSeconds(counters.bucket, now, policy));
  const pairWait = waitSeconds(counters.pair, now, policy);
  if (pairWait > 0) return { kind: "wait", retryAfterSeconds: pairWait };
  // The account's delay and lock bind only sources that have failed against it (see above).
  if (activeCounter(counters.pair, now, policy) === undefined) return { kind: "evaluate" };
  const account = activeCounter(counters.account, now, policy);
  const accountWait = waitSeconds(account, now, policy);
  if (accountWait > 0) return { kind: "wait", retryAfterSeconds: accountWait };
  if (account?.lockedUntil !== undefined && account.lockedUntil > now) return { kind: "locked" };
  return { kind: "evaluate" };
}

function waitOrEvaluate(seconds: number): AttemptDecision {
  return seconds > 0 ? { kind: "wait", retryAfterSeconds: seconds } : { kind: "evaluate" };
}

/** The counter after one more failure at `now`; `lockable` counters (accounts) lock at the threshold. */
export function addFailure(counter: FailureCounter | undefined, now: number, policy: ThrottlePolicy, lockable: boolean): FailureCounter {
  const failures = (activeCounter(counter, now, policy)?.failures ?? 0) + 1;
  const next: FailureCounter = { failures, lastFailureAt: now };
  if (lockable && failures >= policy.lockThreshold) next.lockedUntil = now + policy.lockSeconds * 1000;
  return next;
}
