/** What an instance's status says of a restore in progress (pure). */
import type { RestoreProgress } from "../api/index.ts";
import { bytesPerSecond, describeTransfer, secondsLeft, type RestoreProgressReport } from "../dataprotection/index.ts";

/** The status field for a restore of `backup` (`namespace/name`) begun at `startedAt`, from the meter's last report. */
export function restoreProgressOf(backup: string, startedAt: string, report: RestoreProgressReport | undefined, now: string): RestoreProgress {
  if (report === undefined) return { backup, bytesDone: 0, bytesPerSecond: 0, startedAt, updatedAt: now };
  // No total before the backup's manifest is open: 0 then means unknown, not empty.
  const totalBytes = report.totalBytes > 0 ? report.totalBytes : undefined;
  const figures = { bytesDone: report.bytesDone, totalBytes, bytesPerSecond: bytesPerSecond(report.bytesDone, report.elapsedMs) };
  const etaSeconds = secondsLeft(figures, report.elapsedMs);
  return {
    backup,
    bytesDone: figures.bytesDone,
    ...(totalBytes === undefined ? {} : { totalBytes }),
    bytesPerSecond: figures.bytesPerSecond,
    ...(etaSeconds === undefined ? {} : { etaSeconds }),
    startedAt,
    updatedAt: now,
  };
}

/** The instance's message while it restores: `restoring from backup demo/b: 120.0 MiB of 300.0 MiB (40%), ...`. */
export function restoringMessage(progress: RestoreProgress): string {
  if (progress.bytesDone === 0 && progress.totalBytes === undefined) return `restoring from backup ${progress.backup}`;
  return `restoring from backup ${progress.backup}: ${describeTransfer(progress)}`;
}
