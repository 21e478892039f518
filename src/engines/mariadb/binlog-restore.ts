/**
 * Point-in-time restore of MariaDB: a mariabackup backup unpacked and prepared into the new data directory, then the
 * archived binlog of the instance it was taken from, from the backup's binlog position up to the target time (or, when
 * that instance's archive stops short, another instance's from the backup's GTID: chooseReplay), staged
 * (checked and decrypted by the control plane) in a directory of the service user's and replayed with
 * `mariadb-binlog --stop-datetime` into a private server (socket only, grants skipped, no binlog of its own). The new
 * cluster's passwords are set after, and the directory is marked initialised last.
 */
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { InvalidError, UnavailableError, errorMessage } from "../../errors/index.ts";
import { findExecutableSync } from "../host-binaries.ts";
import type { BackupSource, CommandSpec, HostAccess, InstanceContext, LogArchiveSource, TimeRestore } from "../types.ts";
import { binlogSequence, chooseReplay, gtidListOfPrinted, parseArchivedBinlog, parseBinlogInfo, parseGtidList, startsNoLaterThan, stopDatetime, type ArchivedFileTime, type BinlogStart, type ReplayPlan } from "./binlog-names.ts";
import { SOURCE_STREAM, openWithAccounts, unpackAndPrepare } from "./mariabackup.ts";
import { withPrivateServer } from "./private-server.ts";

const STAGING = "binlog-restore";

const MARIADB_BINLOG = (): string => findExecutableSync("mariadb-binlog") ?? "/usr/bin/mariadb-binlog";

/**
 * `mariadb-binlog` printing the events of `files` from `start` until `target`, times in UTC: `start` is a byte position
 * in the first file, or a GTID list (events after it, in every file).
 */
export function replayCommand(files: readonly string[], start: string, target: Date): CommandSpec {
  return { command: MARIADB_BINLOG(), args: ["--no-defaults", `--start-position=${start}`, `--stop-datetime=${stopDatetime(target)}`, ...files], env: { TZ: "UTC" } };
}

/** Where the replay starts in the plan's first file. */
function replayStart(plan: ReplayPlan, start: BinlogStart): string {
  return plan.from === "gtid" && start.gtid !== undefined ? start.gtid : String(start.position);
}

/**
 * Another instance's first staged file must not begin past the backup's GTID, or the transactions between would be
 * missing: its Gtid list event (the GTID state the file starts at) is read with mariadb-binlog.
 */
async function checkContinuity(path: string, plan: ReplayPlan, start: BinlogStart, host: HostAccess): Promise<void> {
  const base = parseGtidList(start.gtid ?? "");
  const printed = await host.run({ command: MARIADB_BINLOG(), args: ["--no-defaults", "--stop-position=4096", path], env: { TZ: "UTC" } });
  const fileStart = gtidListOfPrinted(printed.stdout);
  if (base === undefined || fileStart === undefined) throw new InvalidError(`the archived binlog of ${plan.instance} does not say where its GTIDs begin; it cannot continue the full backup (GTID ${start.gtid ?? "none"})`);
  if (!startsNoLaterThan(fileStart, base)) {
    throw new InvalidError(`the archived binlog of ${plan.instance} begins after the full backup's GTID ${start.gtid ?? ""}: the transactions between are in no archive that remains`);
  }
}

/** The time before which another instance's files hold nothing after the backup: the source's file before the backup's, less 5 minutes of clock skew. */
function notBeforeOf(files: readonly ArchivedFileTime[], source: string, start: BinlogStart): Date | undefined {
  const previous = files.find((f) => {
    const parsed = parseArchivedBinlog(f.name);
    return parsed?.instance === source && parsed.sequence === (binlogSequence(start.file) ?? 0) - 1;
  });
  return previous === undefined ? undefined : new Date(previous.writtenAt.getTime() - 5 * 60_000);
}

/** The instance the full backup was taken from (its SOURCE_STREAM). */
async function sourceInstance(base: BackupSource): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of base.openStream(SOURCE_STREAM)) chunks.push(Buffer.from(chunk as Uint8Array));
  const parsed = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { instance?: unknown };
  if (typeof parsed.instance !== "string") throw new InvalidError("the full backup names no source instance; it cannot be replayed onto");
  return parsed.instance;
}

/** The archived files' times, of every instance. */
async function archivedTimes(log: LogArchiveSource): Promise<ArchivedFileTime[]> {
  const names = log.names().filter((name) => parseArchivedBinlog(name) !== undefined);
  const files: ArchivedFileTime[] = [];
  for (const name of names) files.push({ name, writtenAt: (await log.file(name)).writtenAt });
  return files;
}

/** Stage the chosen files under their own binlog names; returns their paths in order. */
async function stage(log: LogArchiveSource, files: readonly ArchivedFileTime[], directory: string, host: HostAccess): Promise<string[]> {
  await host.mkdir(directory);
  const paths: string[] = [];
  for (const { name } of files) {
    const path = join(directory, parseArchivedBinlog(name)?.file ?? name);
    await host.writeFileFrom(path, (await log.file(name)).open(), 0o600);
    paths.push(path);
  }
  return paths;
}

/** Replay the staged binlog into a private server on the prepared data. */
async function replay(context: InstanceContext, paths: readonly string[], start: string, target: Date, host: HostAccess): Promise<void> {
  const optionFile = join(context.runDirectory, "replay-client.cnf");
  await host.writeFile(optionFile, "[client]\nuser = root\n", 0o600);
  try {
    await withPrivateServer(context, { optionFile, serverArgs: ["--skip-grant-tables"], clientArgs: ["--binary-mode"] }, host, (client) =>
      host.runStreamingOut(replayCommand(paths, start, target), (events) => host.runStreamingIn(client(), events, { cwd: context.runDirectory }), { cwd: context.runDirectory }),
    );
  } catch (error) {
    throw new UnavailableError(`replaying the binlog onto ${context.instanceName} up to ${target.toISOString()} failed: ${errorMessage(error)}`, { cause: error });
  } finally {
    await rm(optionFile, { force: true });
  }
}

/** See ContinuousArchiving.restoreToTime. */
export async function restoreMariadbToTime({ context, base, log, target, accounts }: TimeRestore, host: HostAccess): Promise<void> {
  const instance = await sourceInstance(base);
  await unpackAndPrepare(context, base, host);
  const start = parseBinlogInfo((await readFile(join(context.dataDirectory, "xtrabackup_binlog_info"), "utf8").catch(() => "")));
  if (start === undefined) throw new InvalidError("the full backup records no binlog position (its server wrote no binlog); it cannot be replayed onto");
  const times = await archivedTimes(log);
  const plan = chooseReplay(times, instance, start, target, notBeforeOf(times, instance, start));
  if ("problem" in plan) throw new InvalidError(`${plan.problem} (full backup taken on ${instance}, from ${start.file})`);
  const staging = join(context.rootDirectory, STAGING);
  try {
    const paths = await stage(log, plan.files, staging, host);
    if (plan.from === "gtid") await checkContinuity(paths[0] ?? "", plan, start, host);
    await replay(context, paths, replayStart(plan, start), target, host);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  await openWithAccounts(context, accounts, host);
}
