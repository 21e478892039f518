/**
 * Names of archived binlog files (pure): `<instance>.mariadb-bin.<number>`. Every instance of a replicated cluster
 * writes its own binlog (log-slave-updates), with its own numbering, so the instance's name keeps them apart.
 */

/** The binlog's base name (my.cnf `log-bin`). */
export const BINLOG_BASENAME = "mariadb-bin";

const ARCHIVED = /^([a-z0-9][a-z0-9.-]*)\.(mariadb-bin\.(\d{6,}))$/;

/** An archived binlog file's parts: the instance that wrote it, its own file name and its number. */
export interface ArchivedBinlog {
  instance: string;
  file: string;
  sequence: number;
}

/** The archive's name for binlog `file` of `instance`. */
export function archivedBinlogName(instance: string, file: string): string {
  return `${instance}.${file}`;
}

/** The parts of an archived name, or undefined for anything else (a temporary copy, the flag, state files). */
export function parseArchivedBinlog(name: string): ArchivedBinlog | undefined {
  const match = ARCHIVED.exec(name);
  if (match === null) return undefined;
  return { instance: match[1] ?? "", file: match[2] ?? "", sequence: Number(match[3]) };
}

/** The number of a binlog file name (`mariadb-bin.000042` → 42), or undefined. */
export function binlogSequence(file: string): number | undefined {
  const match = /^mariadb-bin\.(\d{6,})$/.exec(file);
  return match === null ? undefined : Number(match[1]);
}

/** Archived binlogs by instance, then in the order written. */
export function compareArchivedBinlogs(a: string, b: string): number {
  const [x, y] = [parseArchivedBinlog(a), parseArchivedBinlog(b)];
  if (x === undefined || y === undefined) return a < b ? -1 : a > b ? 1 : 0;
  if (x.instance !== y.instance) return x.instance < y.instance ? -1 : 1;
  return x.sequence - y.sequence;
}

/** The binlog files an index file lists (`./mariadb-bin.000001` per line), by name, in order. */
export function parseBinlogIndex(text: string): string[] {
  return text.split("\n").map((line) => line.trim()).filter((line) => line !== "").map((line) => line.slice(line.lastIndexOf("/") + 1));
}

/** Where a backup's binlog position is: `xtrabackup_binlog_info` (file, byte position, GTID position). */
export interface BinlogStart {
  file: string;
  position: number;
}

/** Parse mariabackup's `xtrabackup_binlog_info`; undefined when the source wrote no binlog. */
export function parseBinlogInfo(text: string): BinlogStart | undefined {
  const match = /^(mariadb-bin\.\d{6,})\s+(\d+)/.exec(text.trim());
  return match === null ? undefined : { file: match[1] ?? "", position: Number(match[2]) };
}

/** One archived file as the restore planner sees it. */
export interface ArchivedFileTime {
  name: string;
  writtenAt: Date;
}

/**
 * The archived files of `instance` a replay from `start` to `target` reads, in order: from the start file on, without a
 * gap in the numbering, up to the first one last written at or after the target. A problem (what is missing) otherwise.
 */
export function chooseBinlogs(files: readonly ArchivedFileTime[], instance: string, start: BinlogStart, target: Date): { files: ArchivedFileTime[] } | { problem: string } {
  const first = binlogSequence(start.file) ?? Number.NaN;
  const own = files
    .map((file) => ({ file, parsed: parseArchivedBinlog(file.name) }))
    .filter(({ parsed }) => parsed !== undefined && parsed.instance === instance && parsed.sequence >= first)
    .sort((a, b) => (a.parsed?.sequence ?? 0) - (b.parsed?.sequence ?? 0));
  const chosen: ArchivedFileTime[] = [];
  let expected = first;
  for (const { file, parsed } of own) {
    if (parsed?.sequence !== expected) return { problem: `the archived binlog of ${instance} has no ${BINLOG_BASENAME}.${String(expected).padStart(6, "0")}: replay can reach only ${chosen.at(-1)?.writtenAt.toISOString() ?? "the end of the full backup"}` };
    chosen.push(file);
    expected++;
    if (file.writtenAt >= target) return { files: chosen };
  }
  const reached = chosen.at(-1)?.writtenAt.toISOString() ?? "the end of the full backup";
  return { problem: `the archived binlog of ${instance} reaches only ${reached}, before ${target.toISOString()}; choose an earlier time or wait for more binlog to be archived` };
}

/** `--stop-datetime` for mariadb-binlog (UTC, whole seconds): events stamped at or after it are not replayed. */
export function stopDatetime(target: Date): string {
  return target.toISOString().slice(0, 19).replace("T", " ");
}
