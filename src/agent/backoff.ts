/** Restart backoff after a crash, as a kubelet does for CrashLoopBackOff (pure). */

/** A run at least this long counts as stable: the next crash starts the backoff from scratch. */
export const STABLE_RUN_MS = 60_000;
const FIRST_DELAY_MS = 1000;
const MAX_DELAY_MS = 60_000;

/** Delay before restarting after `consecutiveFailures` crashes in a row (1 → restart at once). */
export function restartDelayMs(consecutiveFailures: number): number {
  if (consecutiveFailures <= 1) return 0;
  return Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** (consecutiveFailures - 2));
}

/** Crashes in a row, counting this one: reset when the process had run for a stable while. */
export function nextFailureCount(previous: number | undefined, startedAt: string | undefined, nowMs: number): number {
  const ranFor = startedAt === undefined ? 0 : nowMs - Date.parse(startedAt);
  return ranFor >= STABLE_RUN_MS ? 1 : (previous ?? 0) + 1;
}
