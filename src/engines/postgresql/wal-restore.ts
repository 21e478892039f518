/**
 * Point-in-time recovery: a pg-basebackup backup unpacked into the new data directory (restore-base.ts), then the archived WAL it needs
 * up to the target time staged (checked and decrypted by the control plane) in a directory of the service user's,
 * from which `restore_command` copies it. Recovery runs once in single-user mode with `recovery_target_time` and
 * promotes at the target; the same run sets the new cluster's passwords. The directory is marked initialised last.
 */
import { readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { InvalidError, UnavailableError, errorMessage } from "../../errors/index.ts";
import { markerContent, markerPath } from "../marker.ts";
import type { CommandSpec, Credentials, HostAccess, InstanceContext, LogArchiveSource, TimeRestore } from "../types.ts";
import { configurePostgresql } from "./initialize.ts";
import { unpackBaseBackup } from "./restore-base.ts";
import { resetPasswordsInput, SINGLE_USER_TIMEOUT_MS, singleUserFailure } from "./single-user.ts";
import { shellQuote } from "./wal-archive.ts";
import { chooseWalFiles, type WalStart } from "./wal-selection.ts";

const STAGING = "wal-restore";
/** PostgreSQL 13+ stops with this when the archive ends before a commit later than the target. */
const TARGET_NOT_REACHED = "recovery ended before configured recovery target was reached";

/** Where the base backup's WAL starts, from its `backup_label`. */
export function parseBackupLabel(label: string): WalStart {
  const file = /^START WAL LOCATION: \S+ \(file ([0-9A-F]{24})\)$/m.exec(label)?.[1];
  if (file === undefined) throw new InvalidError("the base backup's backup_label names no start WAL file; it is not a pg_basebackup backup");
  return { file };
}

/** `postgres --single` recovering with `settings` (`name=value`), then running the statements on stdin. */
export function recoveryCommand(context: InstanceContext, settings: readonly string[]): CommandSpec {
  return {
    command: join(context.version.binDir, "postgres"),
    args: ["--single", "-D", context.dataDirectory, ...settings.flatMap((setting) => ["-c", setting]), "postgres"],
  };
}

/** Recovery settings: WAL from `staging`, stop at `target` (when given) and promote, following the latest timeline. */
export function recoverySettings(staging: string, target: Date | undefined): string[] {
  const settings = [
    `restore_command=cp ${shellQuote(staging)}/%f "%p"`,
    "recovery_target_timeline=latest",
    "archive_mode=off",
  ];
  if (target === undefined) return settings;
  // A numeric offset: time zone abbreviations such as `Z` are not known yet when the server reads this setting.
  const time = target.toISOString().replace("T", " ").replace("Z", "+00");
  return [...settings, `recovery_target_time=${time}`, "recovery_target_action=promote", "recovery_target_inclusive=on"];
}

/** What staging reads: the archive, where the base backup's WAL starts and what it holds, and the target. */
interface Staging {
  log: LogArchiveSource;
  start: WalStart;
  present: readonly string[];
  target: Date;
  directory: string;
}

/** Stage the WAL files recovery to the target needs; returns their names. */
async function stageWal({ log, start, present, target, directory: staging }: Staging, host: HostAccess): Promise<string[]> {
  await host.mkdir(staging);
  const staged: string[] = [];
  const plan = chooseWalFiles(log.names(), start, present);
  for (const name of plan.history) {
    await stage(log, name, staging, host);
    staged.push(name);
  }
  let reached: Date | undefined;
  for (const group of plan.segments) {
    if (group.gapBefore) throw gapError(group.names[0] ?? "?", reached);
    for (const name of group.names) {
      const writtenAt = await stage(log, name, staging, host);
      staged.push(name);
      if (reached === undefined || writtenAt > reached) reached = writtenAt;
    }
    if (reached !== undefined && reached >= target) return staged;
  }
  throw new InvalidError(`the archived WAL reaches only ${reached?.toISOString() ?? "the base backup"}, before ${target.toISOString()}; choose an earlier time or wait for more WAL to be archived`);
}

function gapError(missingBefore: string, reached: Date | undefined): InvalidError {
  return new InvalidError(`the archived WAL has a gap before segment ${missingBefore}: recovery can reach only ${reached?.toISOString() ?? "the end of the base backup"}; choose an earlier time or a later full backup`);
}

async function stage(log: LogArchiveSource, name: string, staging: string, host: HostAccess): Promise<Date> {
  const file = await log.file(name);
  await host.writeFileFrom(join(staging, name), file.open(), 0o600);
  return file.writtenAt;
}

/** Run recovery once; returns PostgreSQL's first error, or undefined. */
async function recover(context: InstanceContext, settings: readonly string[], accounts: readonly Credentials[], host: HostAccess): Promise<string | undefined> {
  let output: { stdout: string; stderr: string };
  try {
    output = await host.run(recoveryCommand(context, settings), { stdin: resetPasswordsInput(accounts), cwd: context.runDirectory, timeoutMs: SINGLE_USER_TIMEOUT_MS });
  } catch (error) {
    return errorMessage(error);
  }
  return singleUserFailure(output);
}

/**
 * Recover to `target`. When the archive holds no commit after the target, PostgreSQL cannot tell it reached it and
 * stops; the staged WAL then ends at or after the target (staging checked that, gaplessly) and holds no later
 * commit, so replaying all of it gives the state at the target: recovery runs again to the end of what is staged.
 */
async function recoverToTime(context: InstanceContext, staging: string, target: Date, accounts: readonly Credentials[], host: HostAccess): Promise<void> {
  const first = await recover(context, recoverySettings(staging, target), accounts, host);
  if (first === undefined) return;
  const problem = first.includes(TARGET_NOT_REACHED) ? await recover(context, recoverySettings(staging, undefined), accounts, host) : first;
  if (problem !== undefined) throw new UnavailableError(`point-in-time recovery of ${context.instanceName} to ${target.toISOString()} failed: ${problem}`);
}

/** See ContinuousArchiving.restoreToTime. */
export async function restorePostgresqlToTime({ context, base, log, target, accounts }: TimeRestore, host: HostAccess): Promise<void> {
  const staging = join(context.rootDirectory, STAGING);
  await unpackBaseBackup(context, base, host);
  await configurePostgresql(context, host);
  try {
    const start = parseBackupLabel(await readFile(join(context.dataDirectory, "backup_label"), "utf8"));
    const present = await readdir(join(context.dataDirectory, "pg_wal")).catch(() => []);
    await stageWal({ log, start, present, target, directory: staging }, host);
    await host.writeFile(join(context.dataDirectory, "recovery.signal"), "", 0o600);
    await recoverToTime(context, staging, target, accounts, host);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  await host.writeFile(markerPath(context.dataDirectory), markerContent(), 0o600);
}
