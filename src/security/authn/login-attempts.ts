/** The atomic admit-and-count step every login attempt starts with, over whichever backend holds the counters. */
import type { AuthBackend, CounterKey, CounterUpdate } from "./auth-backend.ts";
import type { ThrottlePolicy } from "./policy.ts";
import { addFailure, decideAttempt, type AttemptDecision, type FailureCounter } from "./throttle.ts";

/** Who is attempting: the source address, and the account when it exists (unknown names get no account counter). */
export interface AttemptKey {
  source: string;
  username: string | undefined;
}

/**
 * Decide whether the attempt may proceed and, if so, count it as a failure before it is evaluated. Counting first
 * means concurrent attempts (on any node) cannot all slip through the same open window: the second one already sees
 * the first's failure. A success then resets the counters (`recordSuccess`).
 */
export function admitAttempt(backend: AuthBackend, key: AttemptKey, now: number, policy: ThrottlePolicy): Promise<AttemptDecision> {
  const username = key.username;
  if (username === undefined) {
    return backend.updateFailureCounters([{ scope: "unknown", key: key.source }], ([bucket]): CounterUpdate<AttemptDecision> => {
      const decision = decideAttempt({ kind: "unknown", bucket }, now, policy);
      return decision.kind === "wait" ? { result: decision } : { result: decision, write: [addFailure(bucket, now, policy, false)] };
    });
  }
  return backend.updateFailureCounters(accountKeys(username, key.source), ([account, pair]): CounterUpdate<AttemptDecision> => {
    const decision = decideAttempt({ kind: "account", account, pair }, now, policy);
    if (decision.kind === "wait") return { result: decision };
    return { result: decision, write: [addFailure(account, now, policy, true), addFailure(pair, now, policy, false)] };
  });
}

/** Clear the counters of a successful attempt: the account and its pair with the source. */
export async function recordSuccess(backend: AuthBackend, key: AttemptKey): Promise<void> {
  if (key.username === undefined) return;
  const cleared: (FailureCounter | undefined)[] = [undefined, undefined];
  await backend.updateFailureCounters(accountKeys(key.username, key.source), () => ({ result: undefined, write: cleared }));
}

function accountKeys(username: string, source: string): CounterKey[] {
  return [
    { scope: "account", key: username },
    { scope: "pair", key: JSON.stringify([username, source]) },
  ];
}
