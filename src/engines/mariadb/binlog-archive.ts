/**
 * MariaDB's side of continuous binlog archiving. mariadbd has no archive command, so the node agent collects: on each
 * pass, while the flag file exists, every binlog file the server has finished (all its index lists but the last) that
 * was written since handing over began and not yet handed over is copied into the spool (temporary name, timestamps
 * kept, renamed), and the last one handed over is recorded there. A binlog holding writes is rotated (FLUSH BINARY
 * LOGS, over the private socket) once a minute, so a commit reaches the repository within about a minute, as with
 * PostgreSQL's archive_timeout. The agent then encrypts spooled files into the repository and deletes them.
 */
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Credentials, HostAccess, InstanceLayout } from "../types.ts";
import { askMariadb } from "./client.ts";
import { mariadbSocketPath } from "./config.ts";
import { BINLOG_BASENAME, archivedBinlogName, binlogSequence, parseArchivedBinlog, parseBinlogIndex } from "./binlog-names.ts";

/** A binlog holding writes is rotated once it has been the active one this long. */
export const ROTATE_AFTER_MS = 60_000;
/** Files last written this long before handing over began are not handed over (clock and file-time granularity). */
const FLAG_MARGIN_MS = 10_000;
const SPOOL = "binlog-spool";
const FLAG = "ARCHIVING";
/** The last binlog handed over, and the active one's size right after the last rotation. */
const HANDED_OVER = ".handed-over";
const ROTATION = ".rotation";

/** The spool directory of an instance: `<root>/binlog-spool`. */
export function binlogSpoolDirectory(layout: InstanceLayout): string {
  return join(layout.rootDirectory, SPOOL);
}

/** The flag file that turns handing over on. */
export function binlogArchiveFlag(layout: InstanceLayout): string {
  return join(binlogSpoolDirectory(layout), FLAG);
}

/** Is this spool entry an archived binlog file (not a temporary copy, a state file or the flag)? */
export function isArchivedBinlog(name: string): boolean {
  return parseArchivedBinlog(name) !== undefined;
}

function socketTarget(layout: InstanceLayout): { port: number; socket: string } {
  return { port: layout.port, socket: mariadbSocketPath(layout) };
}

/** Why the server does not write the binlog Holdfast archives, or undefined when it does. */
export async function binlogArchivingProblem(layout: InstanceLayout, admin: Credentials): Promise<string | undefined> {
  const rows = await askMariadb(socketTarget(layout), admin, "SELECT @@global.log_bin, @@global.log_bin_basename");
  const [logBin, basename] = rows[0] ?? [];
  if (logBin !== "1") return `${layout.instanceName} writes no binlog: restart the cluster (OpsRequest type Restart) and create the archive-binlog backup again`;
  if (basename !== join(layout.dataDirectory, BINLOG_BASENAME)) return `${layout.instanceName} writes its binlog to ${basename ?? "?"}, not Holdfast's ${BINLOG_BASENAME}`;
  return undefined;
}

async function readText(path: string): Promise<string | undefined> {
  return readFile(path, "utf8").catch(() => undefined);
}

async function mtimeOf(path: string): Promise<{ mtimeMs: number; size: number } | undefined> {
  return stat(path).catch(() => undefined);
}

/** What one pass of the collector sees of an instance. */
interface Collection {
  layout: InstanceLayout;
  host: HostAccess;
  admin: Credentials;
  spool: string;
}

/** Rotate the active binlog when it holds writes and has been active for a minute (or no rotation was recorded yet). */
async function rotateIfDue(c: Collection, active: string): Promise<void> {
  const state = JSON.parse((await readText(join(c.spool, ROTATION))) ?? "null") as { at: number; size: number } | null;
  const file = await mtimeOf(join(c.layout.dataDirectory, active));
  if (file === undefined) return;
  if (state !== null && (Date.now() - state.at < ROTATE_AFTER_MS || file.size <= state.size)) return;
  try {
    await askMariadb(socketTarget(c.layout), c.admin, "FLUSH BINARY LOGS");
  } catch {
    return; // The server is not running: nothing is written to rotate.
  }
  const index = parseBinlogIndex((await readText(join(c.layout.dataDirectory, `${BINLOG_BASENAME}.index`))) ?? "");
  const fresh = await mtimeOf(join(c.layout.dataDirectory, index.at(-1) ?? active));
  await c.host.writeFile(join(c.spool, ROTATION), JSON.stringify({ at: Date.now(), size: fresh?.size ?? 0 }), 0o600);
}

/** Copy `file` of the data directory into the spool under its archive name, atomically, its modification time kept. */
async function handOver(c: Collection, file: string): Promise<void> {
  const name = archivedBinlogName(c.layout.instanceName, file);
  const temporary = join(c.spool, `.${name}.partial`);
  await c.host.run({ command: "cp", args: ["--preserve=timestamps", join(c.layout.dataDirectory, file), temporary] });
  await c.host.run({ command: "mv", args: ["-f", temporary, join(c.spool, name)] });
  await c.host.writeFile(join(c.spool, HANDED_OVER), `${file}\n`, 0o600);
}

/** Hand the finished binlogs written since handing over began to the spool; rotate the active one when due. */
export async function collectBinlogs(layout: InstanceLayout, host: HostAccess, admin: Credentials): Promise<void> {
  const c: Collection = { layout, host, admin, spool: binlogSpoolDirectory(layout) };
  const flag = await mtimeOf(binlogArchiveFlag(layout));
  if (flag === undefined) return;
  const indexPath = join(layout.dataDirectory, `${BINLOG_BASENAME}.index`);
  const active = parseBinlogIndex((await readText(indexPath)) ?? "").at(-1);
  if (active === undefined) return;
  await rotateIfDue(c, active);
  const files = parseBinlogIndex((await readText(indexPath)) ?? "");
  const last = binlogSequence(((await readText(join(c.spool, HANDED_OVER))) ?? "").trim()) ?? -1;
  for (const file of files.slice(0, -1)) {
    const sequence = binlogSequence(file);
    if (sequence === undefined || sequence <= last) continue;
    const written = await mtimeOf(join(layout.dataDirectory, file));
    if (written === undefined || written.mtimeMs < flag.mtimeMs - FLAG_MARGIN_MS) continue;
    await handOver(c, file);
  }
}
