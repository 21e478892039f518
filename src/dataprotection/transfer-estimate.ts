/** Rate, share done and time left of a backup or restore whose total is known or estimated, and how to say it (pure). */

/** A transfer as the status reports it. */
export interface TransferFigures {
  bytesDone: number;
  /** Known (restore: the manifest) or estimated (backup: the database size) total; undefined when nobody can tell. */
  totalBytes?: number | undefined;
  bytesPerSecond: number;
}

/** The rate needs this much of a run before an estimate of the time left means anything (a first report comes after 1 s). */
const MIN_ELAPSED_MS = 500;

/** Bytes per second after `elapsedMs`; 0 before any time has passed. */
export function bytesPerSecond(bytesDone: number, elapsedMs: number): number {
  return elapsedMs > 0 ? Math.round((bytesDone * 1000) / elapsedMs) : 0;
}

/**
 * Whole seconds left at the rate so far, or undefined when it cannot be told: no total, no rate yet, too short a run,
 * or more done than the (estimated) total said.
 */
export function secondsLeft(figures: TransferFigures, elapsedMs: number): number | undefined {
  const { bytesDone, totalBytes, bytesPerSecond: rate } = figures;
  if (totalBytes === undefined || rate <= 0 || elapsedMs < MIN_ELAPSED_MS || bytesDone > totalBytes) return undefined;
  return Math.ceil((totalBytes - bytesDone) / rate);
}

/** The share done, 0-100, rounded down (100 only when all is done); undefined without a total. */
export function percentDone(bytesDone: number, totalBytes: number | undefined): number | undefined {
  if (totalBytes === undefined) return undefined;
  if (totalBytes <= 0 || bytesDone >= totalBytes) return 100;
  return Math.floor((bytesDone * 100) / totalBytes);
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

/** `1.5 GiB`. */
export function formatByteCount(bytes: number): string {
  let amount = bytes;
  let unit = 0;
  while (amount >= 1024 && unit < UNITS.length - 1) {
    amount /= 1024;
    unit++;
  }
  return unit === 0 ? `${Math.round(amount)} B` : `${amount.toFixed(1)} ${UNITS[unit] ?? ""}`;
}

/** `1m05s`, `42s`, `2h03m`. */
export function formatSeconds(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** `120.0 MiB of 300.0 MiB (40%), 50.0 MiB/s, about 4s left`; parts that are not known are left out. */
export function describeTransfer(figures: TransferFigures & { etaSeconds?: number | undefined }): string {
  const percent = percentDone(figures.bytesDone, figures.totalBytes);
  const of = figures.totalBytes === undefined ? "" : ` of ${formatByteCount(figures.totalBytes)} (${percent ?? 0}%)`;
  const rate = figures.bytesPerSecond > 0 ? `, ${formatByteCount(figures.bytesPerSecond)}/s` : "";
  const left = figures.etaSeconds === undefined ? "" : `, about ${formatSeconds(figures.etaSeconds)} left`;
  return `${formatByteCount(figures.bytesDone)}${of}${rate}${left}`;
}
