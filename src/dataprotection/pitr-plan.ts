/**
 * Point-in-time recovery planning (pure): which full backup and which continuous backup (archived log) restore a
 * cluster component to a moment, and the range of moments a continuous backup covers.
 *
 * A full backup can be replayed with a continuous backup's log when both are of the same cluster component and the
 * full backup started after archiving began (so every log file from its start on was archived). The covered range
 * of a continuous backup runs from the end of the first such full backup to the last time the server wrote an
 * archived file (status.timeRange.end).
 */
import type { Backup } from "../api/index.ts";
import type { Engine } from "../engines/index.ts";

/** The continuous methods: each one's name → the full-backup methods its log can be replayed onto. */
export type ContinuousMethods = ReadonlyMap<string, readonly string[]>;

/** The continuous methods of `engines`. */
export function continuousMethodsOf(engines: readonly Pick<Engine, "backupMethods">[]): ContinuousMethods {
  const methods = new Map<string, readonly string[]>();
  for (const method of engines.flatMap((engine) => engine.backupMethods)) if (method.continuous !== undefined) methods.set(method.name, method.continuous.baseMethods);
  return methods;
}

/** The backups a point-in-time restore reads. */
export interface PointInTimePlan {
  base: Backup;
  archive: Backup;
}

/** Moments a continuous backup can restore to. */
export interface CoveredRange {
  /** The end of the first full backup it can be replayed onto; undefined when there is none. */
  start: string | undefined;
  /** The last time the server wrote an archived file; undefined before the first one lands. */
  end: string | undefined;
  /** That first full backup. */
  firstBase: Backup | undefined;
}

function key(backup: Backup): string {
  const source = backup.status?.source;
  return `${backup.metadata.namespace ?? "default"}/${source?.cluster ?? "?"}/${source?.component ?? "?"}`;
}

function time(value: string | undefined): number {
  return value === undefined ? Number.NaN : Date.parse(value);
}

/** Is `backup` a continuous backup (by its method)? */
export function isContinuousBackup(backup: Backup, methods: ContinuousMethods): boolean {
  return methods.has(backup.spec.backupMethod);
}

/**
 * Is continuous backup `backup` archiving, or about to: handed to a node agent (status.source), New or Running, not
 * being deleted, and not refused by that agent (status.run). The controller's one-at-a-time rule and the agents' hand-over
 * both go by it.
 */
export function isArchiving(backup: Backup): boolean {
  const phase = backup.status?.phase ?? "New";
  const run = backup.status?.run?.state;
  return backup.metadata.deletionTimestamp === undefined && backup.status?.source !== undefined && (phase === "New" || phase === "Running") && (run === undefined || run === "Running");
}

/** Completed full backups `archive`'s log can be replayed onto, oldest end first. */
export function basesFor(archive: Backup, backups: readonly Backup[], methods: ContinuousMethods): Backup[] {
  const baseMethods = methods.get(archive.spec.backupMethod) ?? [];
  const began = time(archive.status?.timeRange?.start);
  return backups
    .filter((b) => b.status?.phase === "Completed" && baseMethods.includes(b.spec.backupMethod) && key(b) === key(archive))
    .filter((b) => time(b.status?.timeRange?.start) >= began && Number.isFinite(time(b.status?.timeRange?.end)))
    .sort((a, b) => time(a.status?.timeRange?.end) - time(b.status?.timeRange?.end));
}

/** The moments `archive` can restore to. */
export function coveredRange(archive: Backup, backups: readonly Backup[], methods: ContinuousMethods): CoveredRange {
  const firstBase = basesFor(archive, backups, methods)[0];
  return { start: firstBase?.status?.timeRange?.end, end: archive.status?.timeRange?.end, firstBase };
}

function rangeText(name: string, range: CoveredRange): string {
  if (range.start === undefined) return `backup ${name} has no full backup to replay its WAL onto: take one after archiving began (holdfast backup create --cluster CLUSTER --method pg-basebackup)`;
  if (range.end === undefined) return `backup ${name} has archived no WAL yet; wait for the first segment (at most a minute after a write)`;
  return `backup ${name} covers ${range.start} (the end of full backup ${range.firstBase?.metadata.name ?? "?"}) to ${range.end} (the last archived WAL)`;
}

/** With continuous backup `archive`: the latest base ending at or before `target`, or why none serves. */
function planWithArchive(archive: Backup, target: Date, backups: readonly Backup[], methods: ContinuousMethods): PointInTimePlan | { problem: string } {
  const range = coveredRange(archive, backups, methods);
  const at = target.getTime();
  const base = basesFor(archive, backups, methods).filter((b) => time(b.status?.timeRange?.end) <= at).pop();
  if (base === undefined || range.end === undefined || at > time(range.end)) {
    return { problem: `restore time ${target.toISOString()} is not covered: ${rangeText(archive.metadata.name, range)}` };
  }
  return { base, archive };
}

/** The continuous backups of the cluster component `backup` is of. */
function archivesOf(backup: Backup, backups: readonly Backup[], methods: ContinuousMethods): Backup[] {
  const live = new Set(["Running", "Completed"]);
  return backups.filter((b) => isContinuousBackup(b, methods) && key(b) === key(backup) && live.has(b.status?.phase ?? "New"));
}

/** With full backup `base`: a continuous backup whose log replays onto it up to `target`, or why none does. */
function planWithBase(base: Backup, target: Date, backups: readonly Backup[], methods: ContinuousMethods): PointInTimePlan | { problem: string } {
  const archives = archivesOf(base, backups, methods);
  if (archives.length === 0) return { problem: `no continuous backup (archive-wal) of the cluster of backup ${base.metadata.name} exists: create one, then a full backup, to restore to a point in time` };
  const at = target.getTime();
  if (at < time(base.status?.timeRange?.end)) return { problem: `restore time ${target.toISOString()} is before full backup ${base.metadata.name} ended (${base.status?.timeRange?.end ?? "?"}): choose a later time or an earlier full backup` };
  const replaying = archives.find((archive) => at <= time(archive.status?.timeRange?.end) && basesFor(archive, backups, methods).some((b) => b.metadata.uid === base.metadata.uid));
  if (replaying !== undefined) return { base, archive: replaying };
  const ranges = archives.map((archive) => rangeText(archive.metadata.name, coveredRange(archive, backups, methods))).join("; ");
  return { problem: `restore time ${target.toISOString()} is not covered from full backup ${base.metadata.name}: no continuous backup holds its WAL up to that time; ${ranges}` };
}

/**
 * The backups that restore to `target`, starting from the backup the user named: a continuous backup (its latest
 * full backup ending at or before the target is used), or a full backup (a continuous backup holding its WAL up to
 * the target is used). A problem names the covered range, so the user can pick a time inside it.
 */
export function planPointInTime(named: Backup, target: Date, backups: readonly Backup[], methods: ContinuousMethods): PointInTimePlan | { problem: string } {
  return isContinuousBackup(named, methods) ? planWithArchive(named, target, backups, methods) : planWithBase(named, target, backups, methods);
}
