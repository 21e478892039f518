/**
 * The files of a running PostgreSQL data directory a base backup copies, with the exclusions pg_basebackup
 * makes (src/backend/backup/basebackup.c): runtime state re-created at start (pg_replslot, pg_dynshmem, pg_notify,
 * pg_serial, pg_snapshots, pg_stat_tmp, pg_subtrans, and pg_wal, whose needed segments are added apart), pid and
 * option files, an old backup_label or tablespace_map, relcache init files, temporary files and relations, and all
 * forks but the init fork of unlogged relations. pg_control is left to the caller: it must be copied last.
 */
import type { Dirent, Stats } from "node:fs";
import { lstat, readdir, readlink } from "node:fs/promises";
import { join } from "node:path";

/** Top-level directories kept empty. */
const EXCLUDED_CONTENTS = new Set(["pg_wal", "pg_replslot", "pg_dynshmem", "pg_notify", "pg_serial", "pg_snapshots", "pg_stat_tmp", "pg_subtrans"]);
/** Files left out wherever they are. */
const EXCLUDED_FILES = new Set(["postmaster.pid", "postmaster.opts", "backup_label", "tablespace_map", "backup_manifest", "postgresql.auto.conf.tmp", "current_logfiles.tmp", "pg_internal.init"]);
const TEMP_PREFIX = "pgsql_tmp";
/** The control file: copied after everything else. */
export const CONTROL_FILE = "global/pg_control";
const UNLOGGED_INIT = /^(\d+)_init$/;
const TEMP_RELATION = /^t\d+_\d+/;
const DIGITS = /^\d+$/;
/** Status calls of one directory's entries in flight at once. */
const LOOKAHEAD = 16;

/** One entry of the walk: its path in the archive (relative, with slashes) and where it is. */
export interface WalkEntry {
  path: string;
  absolute: string;
  kind: "file" | "directory" | "symlink";
  stats: Stats;
  linkTarget?: string;
}

/** The names of a directory's listing that a base backup leaves out. `relations`: a database directory. */
export function skippedNames(names: readonly string[], relations: boolean): Set<string> {
  const skipped = new Set(names.filter((name) => EXCLUDED_FILES.has(name) || name.startsWith(TEMP_PREFIX)));
  if (!relations) return skipped;
  const unlogged = new Set(names.flatMap((name) => UNLOGGED_INIT.exec(name)?.[1] ?? []));
  for (const name of names) {
    if (TEMP_RELATION.test(name)) skipped.add(name);
    const relfilenode = relfilenodeOf(name);
    if (relfilenode !== undefined && unlogged.has(relfilenode)) skipped.add(name);
  }
  return skipped;
}

/** The relfilenode of a main, FSM or VM fork file (`16384`, `16384_fsm`, `16384.2`), else undefined. */
function relfilenodeOf(name: string): string | undefined {
  const [stem = "", segment, extra] = name.split(".");
  if (extra !== undefined || (segment !== undefined && !DIGITS.test(segment))) return undefined;
  const [node = "", fork, more] = stem.split("_");
  if (more !== undefined || !DIGITS.test(node) || (fork !== undefined && fork !== "fsm" && fork !== "vm")) return undefined;
  return node;
}

/** Is this archive path a database directory (`base/<oid>`)? */
function isDatabaseDirectory(path: string): boolean {
  return /^base\/\d+$/.test(path);
}

/** Walk `root` in name order: directories before their contents; pg_control is not among the files. */
export async function* walkDataDirectory(root: string): AsyncGenerator<WalkEntry> {
  yield* walkBelow(root, "");
}

async function* walkBelow(root: string, relative: string): AsyncGenerator<WalkEntry> {
  const listing = await listDirectory(join(root, relative));
  const names = listing.map((entry) => entry.name).sort();
  const skipped = skippedNames(names, isDatabaseDirectory(relative));
  const paths = names.filter((name) => !skipped.has(name)).map((name) => (relative === "" ? name : `${relative}/${name}`)).filter((path) => path !== CONTROL_FILE);
  for await (const entry of entriesOf(root, paths, relative === "")) {
    yield entry;
    const name = entry.path.slice(entry.path.lastIndexOf("/") + 1);
    if (entry.kind === "directory" && !(relative === "" && EXCLUDED_CONTENTS.has(name))) yield* walkBelow(root, entry.path);
  }
}

/**
 * The entries of `paths` in order, with up to LOOKAHEAD `lstat`s in flight: a catalog directory holds hundreds of
 * files, and one status call after another costs a thread-pool round trip each.
 */
async function* entriesOf(root: string, paths: readonly string[], topLevel: boolean): AsyncGenerator<WalkEntry> {
  const pending: Array<Promise<WalkEntry | undefined>> = [];
  let next = 0;
  const issue = (): void => {
    for (; pending.length < LOOKAHEAD && next < paths.length; next++) {
      const looking = entryOf(root, paths[next] ?? "", topLevel);
      looking.catch(() => undefined);
      pending.push(looking);
    }
  };
  issue();
  for (let looking = pending.shift(); looking !== undefined; looking = pending.shift()) {
    const entry = await looking;
    issue();
    if (entry !== undefined) yield entry;
  }
}

/** An entry, or undefined when it vanished (a dropped relation or database). A top-level pg_wal link is a directory. */
async function entryOf(root: string, path: string, topLevel: boolean): Promise<WalkEntry | undefined> {
  const absolute = join(root, path);
  const stats = await lstat(absolute).catch(vanished);
  if (stats === undefined) return undefined;
  if (stats.isDirectory() || (topLevel && path === "pg_wal" && stats.isSymbolicLink())) return { path, absolute, kind: "directory", stats };
  if (stats.isSymbolicLink()) {
    const linkTarget = await readlink(absolute).catch(vanished);
    return linkTarget === undefined ? undefined : { path, absolute, kind: "symlink", stats, linkTarget };
  }
  return stats.isFile() ? { path, absolute, kind: "file", stats } : undefined;
}

async function listDirectory(directory: string): Promise<Dirent[]> {
  return (await readdir(directory, { withFileTypes: true }).catch(vanished)) ?? [];
}

/** A file or directory removed while the walk ran is left out; any other error stops the backup. */
function vanished(error: unknown): undefined {
  if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
  throw error;
}
