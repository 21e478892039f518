/**
 * The `mariabackup` backup method: a full physical backup of a running server as one xbstream (`backup.xbstream`) on
 * mariabackup's stdout, which the sink compresses, encrypts and authenticates; nothing of it is written to disk in
 * plaintext. mariabackup runs as the instance's OS user and logs in over the private socket, its password in an
 * option file (0600, the scratch directory) that includes the instance's my.cnf. Restore: `mbstream -x` into the new
 * data directory, `mariabackup --prepare`, the source's replication state dropped, the new cluster's passwords set by
 * `mariadbd --bootstrap` (stdin), and the marker last.
 */
import { randomUUID } from "node:crypto";
import { readdir, rm } from "node:fs/promises";
import { Readable } from "node:stream";
import { join } from "node:path";
import { UnavailableError, errorMessage } from "../../errors/index.ts";
import { findExecutableSync } from "../host-binaries.ts";
import { INITIALIZED_MARKER, exists, markerContent, markerPath } from "../marker.ts";
import type { BackupContext, BackupMethodDefinition, BackupSink, BackupSource, CommandSpec, Credentials, HostAccess, InstanceContext } from "../types.ts";
import { resetAccountsSql } from "./accounts-sql.ts";
import { askMariadb, clientOptionFile } from "./client.ts";
import { PRIVATE_FILE_MODES, PRIVATE_UMASK, mariadbConfPath, mariadbSocketPath } from "./config.ts";
import { configureMariadb } from "./initialize.ts";

/** The stream holding mariabackup's xbstream. */
export const XBSTREAM = "backup.xbstream";
/** A small stream naming the instance backed up: a point-in-time restore replays that instance's binlogs. */
export const SOURCE_STREAM = "source.json";
/** Name of the method. */
export const MARIABACKUP = "mariabackup";

const PREPARE_TIMEOUT_MS = 3_600_000;
const BOOTSTRAP_TIMEOUT_MS = 180_000;

/** Files of the source that must not come to life in a new cluster: its replication state and Holdfast's markers. */
export const SOURCE_STATE_FILES = [INITIALIZED_MARKER, "holdfast-replication-role", "master.info", "relay-log.info", "multi-master.info", "mariadbd.pid"];

function tool(name: string): string {
  return findExecutableSync(name) ?? `/usr/bin/${name}`;
}

/**
 * The directory of the client's ed25519 plugin (Debian's libmariadb3): mariabackup's client looks in the server's
 * plugin directory otherwise, where Debian has only the server side.
 */
export async function clientPluginDirectory(): Promise<string | undefined> {
  const lib = await readdir("/usr/lib").catch(() => []);
  const candidates = [...lib.filter((name) => name.endsWith("-linux-gnu")).map((name) => join("/usr/lib", name, "libmariadb3", "plugin")), "/usr/lib/mysql/plugin"];
  for (const directory of candidates) if (await exists(join(directory, "client_ed25519.so"))) return directory;
  return undefined;
}

/** The backup's option file: the instance's my.cnf (data directory, InnoDB settings), then the account, socket and client plugins. */
export function backupOptionFile(context: InstanceContext, account: Credentials, pluginDirectory?: string): string {
  const credentials = clientOptionFile(account).replace("[client]", "[mariabackup]");
  const plugins = pluginDirectory === undefined ? "" : `plugin-dir = ${pluginDirectory}\n`;
  return `!include ${mariadbConfPath(context)}\n${credentials}socket = ${mariadbSocketPath(context)}\n${plugins}`;
}

/** `mariabackup --backup` of the running instance to stdout as xbstream; everything secret is in `optionFile`. */
export function backupCommand(optionFile: string, targetDirectory: string): CommandSpec {
  return { command: tool("mariabackup"), args: [`--defaults-file=${optionFile}`, "--backup", "--stream=xbstream", `--target-dir=${targetDirectory}`], env: { ...PRIVATE_FILE_MODES }, umask: PRIVATE_UMASK };
}

/** `mbstream -x` unpacking the xbstream on stdin into `directory`. */
export function unpackCommand(directory: string): CommandSpec {
  return { command: tool("mbstream"), args: ["-x", "-C", directory], umask: PRIVATE_UMASK };
}

/** `mariabackup --prepare` of an unpacked backup: InnoDB's redo applied, the files consistent. */
export function prepareCommand(context: InstanceContext): CommandSpec {
  return { command: tool("mariabackup"), args: [`--defaults-file=${mariadbConfPath(context)}`, "--prepare", `--target-dir=${context.dataDirectory}`], env: { ...PRIVATE_FILE_MODES }, umask: PRIVATE_UMASK };
}

async function backup(context: BackupContext, sink: BackupSink, host: HostAccess): Promise<void> {
  const { instance, account } = context;
  const id = randomUUID();
  const optionFile = join(context.scratchDirectory, `mariabackup-${id}.cnf`);
  const target = join(context.scratchDirectory, `mariabackup-${id}`);
  try {
    await host.writeFile(optionFile, backupOptionFile(instance, account, await clientPluginDirectory()), 0o600);
    await host.mkdir(target);
    await sink.writeStream(SOURCE_STREAM, Readable.from([JSON.stringify({ instance: instance.instanceName })]));
    await host.runStreamingOut(backupCommand(optionFile, target), async (stdout) => {
      await sink.writeStream(XBSTREAM, stdout);
    }, { cwd: instance.runDirectory, signal: context.signal });
  } finally {
    await rm(optionFile, { force: true });
    await rm(target, { recursive: true, force: true });
  }
}

/** The tables' data and indexes: what the xbstream mostly holds (it adds the redo log and the system tablespace). */
async function estimateSize(context: BackupContext): Promise<number | undefined> {
  const rows = await askMariadb({ port: context.instance.port, socket: mariadbSocketPath(context.instance) }, context.account, "SELECT SUM(data_length + index_length) FROM information_schema.tables");
  const bytes = Number(rows[0]?.[0] ?? Number.NaN);
  return Number.isFinite(bytes) && bytes > 0 ? bytes : undefined;
}

/** Run one step of a restore, saying which failed. */
async function step<T>(context: InstanceContext, what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw new UnavailableError(`${what} of the restored ${context.instanceName} failed: ${errorMessage(error)}`, { cause: error });
  }
}

/** Unpack and prepare a mariabackup backup into the empty data directory of `context`, without the source's state. */
export async function unpackAndPrepare(context: InstanceContext, source: BackupSource, host: HostAccess): Promise<void> {
  await configureMariadb(context, host);
  await host.mkdir(context.dataDirectory);
  // Not wrapped: a damaged backup's own error (naming the chunk) is what the restore reports.
  await host.runStreamingIn(unpackCommand(context.dataDirectory), source.openStream(XBSTREAM), { cwd: context.runDirectory });
  await step(context, "mariabackup --prepare", () => host.run(prepareCommand(context), { cwd: context.runDirectory, timeoutMs: PREPARE_TIMEOUT_MS }));
  await Promise.all(SOURCE_STATE_FILES.map((name) => rm(join(context.dataDirectory, name), { force: true })));
}

/** Give the prepared data the new cluster's passwords (`mariadbd --bootstrap`, statements on stdin, no binlog), then mark it initialised. */
export async function openWithAccounts(context: InstanceContext, accounts: readonly Credentials[], host: HostAccess): Promise<void> {
  const server = { command: join(context.version.binDir, "mariadbd"), args: [`--defaults-file=${mariadbConfPath(context)}`, "--bootstrap", "--skip-log-bin"], env: { ...PRIVATE_FILE_MODES }, umask: PRIVATE_UMASK };
  await step(context, "setting the passwords (mariadbd --bootstrap)", () => host.run(server, { stdin: resetAccountsSql(accounts), cwd: context.runDirectory, timeoutMs: BOOTSTRAP_TIMEOUT_MS }));
  await host.writeFile(markerPath(context.dataDirectory), markerContent(), 0o600);
}

async function restore(context: InstanceContext, source: BackupSource, accounts: readonly Credentials[], host: HostAccess): Promise<void> {
  await unpackAndPrepare(context, source, host);
  await openWithAccounts(context, accounts, host);
}

/** The mariabackup method, taken from a replica when there is one, else from the primary. */
export const MARIADB_MARIABACKUP: BackupMethodDefinition = {
  name: MARIABACKUP,
  description: "full physical backup with mariabackup (xbstream), prepared on restore",
  targetRole: "secondary",
  fallbackRole: "primary",
  backup,
  estimateSize,
  restore,
};
