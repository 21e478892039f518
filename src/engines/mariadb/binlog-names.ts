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
  /** The GTID position the backup holds (`0-1-42`, one per domain, comma-separated); absent when none was written. */
  gtid?: string;
}

/** Parse mariabackup's `xtrabackup_binlog_info`; undefined when the source wrote no binlog. */
export function parseBinlogInfo(text: string): BinlogStart | undefined {
  const [file = "", position = "", gtidField] = text.trim().split(/\s+/);
  if (binlogSequence(file) === undefined || !/^\d+$/.test(position)) return undefined;
  const gtid = gtidField !== undefined && parseGtidList(gtidField) !== undefined ? gtidField : undefined;
  return { file, position: Number(position), ...(gtid === undefined ? {} : { gtid }) };
}

/** A GTID list (`0-1-42,1-2-7`) as sequence numbers by domain; undefined when malformed. The empty list is empty. */
export function parseGtidList(text: string): Map<number, bigint> | undefined {
  const list = new Map<number, bigint>();
  for (const part of text.split(",").map((p) => p.trim()).filter((p) => p !== "")) {
    const match = /^(\d+)-(\d+)-(\d+)$/.exec(part);
    if (match === null || list.has(Number(match[1]))) return undefined;
    list.set(Number(match[1]), BigInt(match[3] ?? "0"));
  }
  return list;
}

/**
 * Whether a binlog file that starts at GTID state `fileStart` (its Gtid list event) holds everything after `base`:
 * in every domain the file starts with, the base already has that many transactions.
 */
export function startsNoLaterThan(fileStart: ReadonlyMap<number, bigint>, base: ReadonlyMap<number, bigint>): boolean {
  return [...fileStart].every(([domain, seq]) => (base.get(domain) ?? 0n) >= seq);
}

/** The GTID list of a binlog file's Gtid list event, as `mariadb-binlog` prints it (`Gtid list [0-1-42]`); undefined if absent. */
export function gtidListOfPrinted(text: string): Map<number, bigint> | undefined {
  const match = /Gtid list \[([^\]]*)\]/.exec(text);
  return match === null ? undefined : parseGtidList(match[1] ?? "");
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

/** What a point-in-time replay reads: one instance's archived files, from the backup's byte position or its GTID. */
export interface ReplayPlan {
  instance: string;
  files: ArchivedFileTime[];
  /** `position`: the backup's source, from its file and byte position; `gtid`: another instance, from the backup's GTID. */
  from: "position" | "gtid";
}

/**
 * The replay of a point-in-time restore: the source instance's archive when it reaches the target; otherwise (the
 * source failed over, was removed or stopped archiving) another instance's, which holds the same transactions under
 * the same GTIDs (log-slave-updates), read from the backup's GTID on. `notBefore`: that instance's files last written
 * before it hold nothing after the backup, so its replay starts with the last of them (all its files when undefined);
 * the restore checks that the first file's Gtid list is not past the backup before replaying.
 */
export function chooseReplay(files: readonly ArchivedFileTime[], source: string, start: BinlogStart, target: Date, notBefore?: Date): ReplayPlan | { problem: string } {
  const own = chooseBinlogs(files, source, start, target);
  if ("files" in own) return { instance: source, files: own.files, from: "position" };
  if (start.gtid === undefined) return own;
  const others = [...new Set(files.map((f) => parseArchivedBinlog(f.name)?.instance).filter((i): i is string => i !== undefined && i !== source))].sort();
  for (const instance of others) {
    const chosen = gaplessToTarget(files, instance, target, notBefore);
    if (chosen !== undefined) return { instance, files: chosen, from: "gtid" };
  }
  return { problem: `${own.problem}; no other instance's archived binlog reaches it without a gap` };
}

/** `instance`'s files from the last written before `notBefore` (or its first) to the first written at or after `target`, if gapless. */
function gaplessToTarget(files: readonly ArchivedFileTime[], instance: string, target: Date, notBefore: Date | undefined): ArchivedFileTime[] | undefined {
  const own = files
    .map((file) => ({ file, sequence: parseArchivedBinlog(file.name)?.instance === instance ? (parseArchivedBinlog(file.name)?.sequence ?? -1) : -1 }))
    .filter(({ sequence }) => sequence >= 0)
    .sort((a, b) => a.sequence - b.sequence);
  const last = own.findIndex(({ file }) => file.writtenAt >= target);
  if (last < 0) return undefined;
  const before = notBefore === undefined ? -1 : own.findLastIndex(({ file }, i) => i <= last && file.writtenAt < notBefore);
  const chosen = own.slice(Math.max(0, before), last + 1);
  const gapless = chosen.every(({ sequence }, i) => i === 0 || sequence === (chosen[i - 1]?.sequence ?? 0) + 1);
  return gapless ? chosen.map(({ file }) => file) : undefined;
}

/** `--stop-datetime` for mariadb-binlog (UTC, whole seconds): events stamped at or after it are not replayed. */
export function stopDatetime(target: Date): string {
  return target.toISOString().slice(0, 19).replace("T", " ");
}
