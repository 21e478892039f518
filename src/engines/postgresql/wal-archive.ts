/**
 * PostgreSQL's side of continuous WAL archiving. `archive_command` runs a small script of Holdfast's: while the flag
 * file exists it copies each finished WAL file into a spool directory of the service user's (copy to a temporary
 * name, fsync, rename, fsync the directory; an existing file with the same bytes counts as done, one with other
 * bytes is refused), and exits non-zero on any failure, so PostgreSQL keeps the file and retries. Without the flag
 * it does nothing and PostgreSQL recycles the file. The control plane (which alone holds the repository's keys)
 * encrypts spooled files into the repository and only then deletes them.
 */
import { join } from "node:path";
import type { Credentials, InstanceLayout } from "../types.ts";
import { withSession } from "./session.ts";

/** Forced segment switch after this many seconds with writes: bounds how old the last archived commit can be. */
export const ARCHIVE_TIMEOUT_SECONDS = 60;
const SCRIPT = "archive-wal.sh";
const SPOOL = "wal-spool";
const FLAG = "ARCHIVING";

/** A WAL segment, a timeline history file, a backup history file or a partial segment (PostgreSQL's names). */
const SEGMENT = /^[0-9A-F]{24}$/;
const PARTIAL = /^[0-9A-F]{24}\.partial$/;
const BACKUP_HISTORY = /^[0-9A-F]{24}\.[0-9A-F]{8}\.backup$/;
const HISTORY = /^[0-9A-F]{8}\.history$/;

/** The spool directory of an instance: `<root>/wal-spool`. */
export function walSpoolDirectory(layout: InstanceLayout): string {
  return join(layout.rootDirectory, SPOOL);
}

/** The flag file that turns handing over on. */
export function walArchiveFlag(layout: InstanceLayout): string {
  return join(walSpoolDirectory(layout), FLAG);
}

/** Where the archive script lives: the run directory. */
export function archiveScriptPath(layout: InstanceLayout): string {
  return join(layout.runDirectory, SCRIPT);
}

/** A word for /bin/sh in single quotes. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** The `archive_command` value (before postgresql.conf quoting). */
export function archiveCommand(layout: InstanceLayout): string {
  return `${shellQuote(archiveScriptPath(layout))} "%p" "%f"`;
}

/** Settings holdfast.conf carries so that archiving can start without a restart: only the flag file decides. */
export function archiveSettings(layout: InstanceLayout): [string, string][] {
  return [
    // `always`: a standby hands over what it receives too, so a failover does not lose what the old primary had not archived.
    ["archive_mode", "always"],
    ["archive_command", archiveCommand(layout)],
    ["archive_timeout", String(ARCHIVE_TIMEOUT_SECONDS)],
  ];
}

/** The archive script (see the file comment). */
export function renderArchiveScript(layout: InstanceLayout): string {
  return `#!/bin/sh
# Managed by Holdfast: PostgreSQL's archive_command, rewritten before every start; edits here are lost.
# While the flag file exists, a finished WAL file is copied into the spool, from which the control plane encrypts it
# into the backup repository. A non-zero exit makes PostgreSQL keep the file and try again.
set -eu
spool=${shellQuote(walSpoolDirectory(layout))}
[ -e "$spool/${FLAG}" ] || exit 0
source="$1"
name="$2"
if [ -e "$spool/$name" ]; then
  cmp -s "$source" "$spool/$name" && exit 0
  echo "holdfast archive: $spool/$name exists with other content; not replacing it" >&2
  exit 1
fi
temporary="$spool/.$name.$$"
trap 'rm -f "$temporary"' EXIT
cp --preserve=timestamps "$source" "$temporary"
sync "$temporary"
mv "$temporary" "$spool/$name"
trap - EXIT
sync "$spool"
`;
}

/** Is `name` a file PostgreSQL archives (and not a temporary copy or the flag)? */
export function isWalFile(name: string): boolean {
  return [SEGMENT, PARTIAL, BACKUP_HISTORY, HISTORY].some((pattern) => pattern.test(name));
}

/** Is `name` a whole WAL segment (what recovery asks for)? */
export function isWalSegment(name: string): boolean {
  return SEGMENT.test(name);
}

/** Is `name` a timeline history file (tiny, needed by any recovery that crosses a timeline: kept forever)? */
export function isTimelineHistory(name: string): boolean {
  return HISTORY.test(name);
}

/** A segment's timeline and its position (log and segment number), from its name. */
export function segmentPosition(name: string): { timeline: number; segment: bigint } {
  return { timeline: Number.parseInt(name.slice(0, 8), 16), segment: (BigInt(`0x${name.slice(8, 16)}`) << 32n) + BigInt(`0x${name.slice(16, 24)}`) };
}

/** WAL files in the order they were written: by position, then timeline; history files first. */
export function compareWalFiles(a: string, b: string): number {
  const key = (name: string): string => (isTimelineHistory(name) ? `0${name}` : `1${name.slice(8, 24)}${name.slice(0, 8)}${name.slice(24)}`);
  const [x, y] = [key(a), key(b)];
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Why the server on `layout.port` does not hand WAL to the spool, or undefined when it does. */
export async function archivingProblem(layout: InstanceLayout, admin: Credentials): Promise<string | undefined> {
  const settings = await withSession(layout.port, admin, async (client) => {
    const result = await client.query<{ name: string; setting: string; pending_restart: boolean }>(
      "select name, setting, pending_restart from pg_catalog.pg_settings where name in ('archive_mode', 'archive_command')",
    );
    return new Map(result.rows.map((row) => [row.name, row]));
  });
  const mode = settings.get("archive_mode");
  if (mode === undefined || mode.setting === "off" || mode.pending_restart) {
    return `archive_mode is not yet on in ${layout.instanceName} (it takes effect at a restart): restart the cluster (OpsRequest type Restart) and create the archive-wal backup again`;
  }
  if (settings.get("archive_command")?.setting !== archiveCommand(layout)) {
    return `archive_command of ${layout.instanceName} is not Holdfast's (a parameter overrides it): remove the archive_command parameter, then create the archive-wal backup again`;
  }
  return undefined;
}
