/**
 * Retention of finished backups, without I/O. As in KubeBlocks, a backup expires at its start plus its
 * retentionPeriod, whether it Completed or Failed, and an expired backup is deleted: its deletionPolicy then decides
 * whether its data goes too (Delete) or stays in the repository (Retain).
 */
import { expirationOf, type Backup } from "../../api/index.ts";

/** What retention asks of a finished backup now. */
export type RetentionAction = { action: "delete" } | { action: "recheck"; afterMs: number } | { action: "keep" };

/** The expiration a backup started at `start` gets from its retentionPeriod, if it has one. */
export function expirationFor(backup: Pick<Backup, "spec">, start: string): { expiration?: string } {
  const expiration = expirationOf(start, backup.spec.retentionPeriod);
  return expiration === undefined ? {} : { expiration };
}

/** Delete an expired backup; look again at expiry (at most `maxWaitMs` away: the clock may jump); keep one without. */
export function retentionAction(backup: Backup, now: number, maxWaitMs: number): RetentionAction {
  const expiration = backup.status?.expiration;
  if (expiration === undefined) return { action: "keep" };
  const left = Date.parse(expiration) - now;
  if (left <= 0) return { action: "delete" };
  return { action: "recheck", afterMs: Math.max(1000, Math.min(maxWaitMs, left)) };
}
