/**
 * Point-in-time restore of MariaDB: a mariabackup backup unpacked and prepared into the new data directory, then the
 * archived binlog of the instance it was taken from, from the backup's binlog position up to the target time, staged
 * (checked and decrypted by the control plane) in a directory of the service user's and replayed with
 * `mariadb-binlog --stop-datetime` into a private server (socket only, grants skipped, no binlog of its own). The new
 * cluster's passwords are set after, and the directory is marked initialised last.
 */
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { InvalidError, UnavailableError, errorMessage } from "../../errors/index.ts";
import { findExecutableSync } from "../host-binaries.ts";
import type { BackupSource, CommandSpec, HostAccess, InstanceContext, LogArchiveSource, TimeRestore } from "../types.ts";
import { chooseBinlogs, parseBinlogInfo, parseArchivedBinlog, stopDatetime, type ArchivedFileTime, type BinlogStart } from "./binlog-names.ts";
import { SOURCE_STREAM, openWithAccounts, unpackAndPrepare } from "./mariabackup.ts";
import { withPrivateServer } from "./private-server.ts";

const STAGING = "binlog-restore";

/** `mariadb-binlog` printing the events of `files` from `start` (in the first) until `target`, times in UTC. */
export function replayCommand(files: readonly string[], start: BinlogStart, target: Date): CommandSpec {
  return {
    command: findExecutableSync("mariadb-binlog") ?? "/usr/bin/mariadb-binlog",
    args: ["--no-defaults", `--start-position=${start.position}`, `--stop-datetime=${stopDatetime(target)}`, ...files],
    env: { TZ: "UTC" },
  };
}

/** The instance the full backup was taken from (its SOURCE_STREAM). */
async function sourceInstance(base: BackupSource): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of base.openStream(SOURCE_STREAM)) chunks.push(Buffer.from(chunk as Uint8Array));
  const parsed = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { instance?: unknown };
  if (typeof parsed.instance !== "string") throw new InvalidError("the full backup names no source instance; it cannot be replayed onto");
  return parsed.instance;
}

/** The archived files' times, read for the source instance's names only. */
async function archivedTimes(log: LogArchiveSource, instance: string): Promise<ArchivedFileTime[]> {
  const names = log.names().filter((name) => parseArchivedBinlog(name)?.instance === instance);
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
async function replay(context: InstanceContext, paths: readonly string[], start: BinlogStart, target: Date, host: HostAccess): Promise<void> {
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
  const plan = chooseBinlogs(await archivedTimes(log, instance), instance, start, target);
  if ("problem" in plan) throw new InvalidError(`${plan.problem} (full backup taken on ${instance}, from ${start.file})`);
  const staging = join(context.rootDirectory, STAGING);
  try {
    const paths = await stage(log, plan.files, staging, host);
    await replay(context, paths, start, target, host);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  await openWithAccounts(context, accounts, host);
}
