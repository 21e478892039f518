/** The progress a backup job reports in its Backup's status (written by the node agent running it), without I/O. */
import type { BackupStatus } from "../api/index.ts";
import type { BackupSummary, TransferProgress } from "../backup/index.ts";
import { secondsLeft } from "../dataprotection/index.ts";

type Progress = NonNullable<BackupStatus["progress"]>;

/** The progress a running backup shows; with the method's estimate of its size, the time left too. */
export function progressOf(progress: TransferProgress, now: string, estimatedTotalBytes?: number): Progress {
  const figures = { bytesDone: progress.plaintextBytes, totalBytes: estimatedTotalBytes, bytesPerSecond: Math.round(progress.plaintextBytesPerSecond) };
  const etaSeconds = secondsLeft(figures, progress.elapsedMs);
  return {
    bytesDone: figures.bytesDone,
    storedBytes: progress.storedBytes,
    bytesPerSecond: figures.bytesPerSecond,
    ...(estimatedTotalBytes === undefined ? {} : { estimatedTotalBytes }),
    ...(etaSeconds === undefined ? {} : { etaSeconds }),
    updatedAt: now,
  };
}

/** The progress of a finished backup: its totals, and no time left. */
export function finalProgress(progress: Progress, summary: Pick<BackupSummary, "plaintextBytes" | "storedBytes">, now: string): Progress {
  const { etaSeconds: _left, ...rest } = progress;
  return { ...rest, bytesDone: summary.plaintextBytes, storedBytes: summary.storedBytes, updatedAt: now };
}
