/**
 * Which small files an incremental data-directory backup leaves unread, writing `ParentStream.unread` zeros for
 * their data (the writer then takes the parent's chunk when every file in it was left unread and its tar headers —
 * names, sizes, mtimes — are the parent's; otherwise it reads them after all). A file qualifies when:
 * - a relation's main fork: the WAL block map says none of its pages changed and it was neither created nor
 *   truncated since the parent (the WAL-map rule, no clock involved);
 * - any other file (FSM and VM forks, pg_xact and the other SLRUs, configuration and state files): its mtime **and**
 *   ctime lie more than `CLOCK_MARGIN_MS` before the parent's start (pgBackRest's size-and-time rule, with a guard
 *   against writes in the same second as what the parent saw, and against an mtime set back by hand: ctime cannot be).
 * Never: pg_control (always read, last), empty files (nothing to read), files of 1 MiB or more (chunked on their own,
 * by the WAL map), any file when the parent recorded no start time or the clock is now before it. Holdfast's marker
 * follows the clock rule: the rule applies only to a parent of the same incarnation, i.e. the same marker content.
 * docs/adr/0044, "Since 2026-12-07 (noon)".
 */
import type { BackupParentStream } from "../types.ts";
import { CONTROL_FILE, type WalkEntry } from "./datadir-walk.ts";
import { readPieceOf } from "./file-read.ts";
import { isMainForkSegment } from "./page-lsn.ts";
import { tarHeader, tarPadding } from "./tar-writer.ts";

/** How far before the parent's start a file's last change must be: timestamp granularity (1–2 s) and clock ticks. */
export const CLOCK_MARGIN_MS = 2000;
/** Files this large are large tar members (chunked from their own start, taken by the WAL map), not packed ones. */
export const SMALL_FILE_LIMIT = 1024 * 1024;
/** The stream attribute holding when the backup started (ms since the epoch, before pg_backup_start). */
export const STARTED_AT_ATTRIBUTE = "startedAt";


/** What the decision needs of a file's status (from the walk's lstat). */
export interface FileTimes {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
}

/** The rule for one backup: the parent's start, the time now, and the WAL map's answer for main forks. */
export interface UnreadRule {
  /** When the parent started (ms since the epoch). */
  parentStartedAt: number;
  now: number;
  /** Whether all of main-fork file `path` (`size` bytes) is unchanged since the parent per the WAL block map. */
  mainForkUnchanged(path: string, size: number): boolean;
}

/** The rule, when the parent recorded a valid start time not after `now`; undefined otherwise (read every file). */
export function unreadRule(parentAttributes: Readonly<Record<string, string>>, now: number, mainForkUnchanged: UnreadRule["mainForkUnchanged"]): UnreadRule | undefined {
  const text = parentAttributes[STARTED_AT_ATTRIBUTE];
  const parentStartedAt = text === undefined || !/^\d{1,15}$/.test(text) ? Number.NaN : Number(text);
  if (!Number.isSafeInteger(parentStartedAt) || parentStartedAt > now) return undefined;
  return { parentStartedAt, now, mainForkUnchanged };
}

/** Whether the file at archive path `path` may be left unread (its data written as the parent's). */
export function mayLeaveUnread(path: string, times: FileTimes, rule: UnreadRule): boolean {
  if (times.size <= 0 || times.size >= SMALL_FILE_LIMIT || path === CONTROL_FILE) return false;
  if (isMainForkSegment(path)) return rule.mainForkUnchanged(path, times.size);
  const lastChange = Math.max(times.mtimeMs, times.ctimeMs);
  return lastChange < rule.parentStartedAt - CLOCK_MARGIN_MS && lastChange <= rule.now;
}

/** Writes the tar members of files left unread, and counts them for the backup's note. */
export class UnreadFiles {
  readonly #rule: UnreadRule;
  readonly #parent: BackupParentStream;
  #left = 0;
  #readAfterAll = 0;

  constructor(rule: UnreadRule, parent: BackupParentStream) {
    this.#rule = rule;
    this.#parent = parent;
  }

  /** The member of a walked file, its data unread; undefined when the file must be read. */
  member(entry: WalkEntry): Buffer[] | undefined {
    const { stats } = entry;
    if (entry.kind !== "file" || !mayLeaveUnread(entry.path, stats, this.#rule)) return undefined;
    this.#left++;
    const header = tarHeader({ name: entry.path, type: "file", size: stats.size, mode: stats.mode, uid: stats.uid, gid: stats.gid, mtime: stats.mtimeMs / 1000 });
    const data = this.#parent.unread(stats.size, (offset, target) => {
      this.#readAfterAll++;
      return readPieceOf(entry.absolute, offset, target);
    });
    const padding = tarPadding(stats.size);
    return padding.length > 0 ? [header, data, padding] : [header, data];
  }

  /** Note, once the stream is stored, how many files were left unread and how many pieces of them were read after all. */
  report(): void {
    this.#parent.note(`${this.#left} small files left unread (size and time, or the WAL map, unchanged since the parent); ${this.#readAfterAll} pieces of them read after all, in chunks that had changed`);
  }
}
