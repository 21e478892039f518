/**
 * The `mariadb-dump` backup method: a logical backup of the applications' databases as one SQL stream (`dump.sql`)
 * on mariadb-dump's stdout, which the sink compresses, encrypts and authenticates; nothing of it is written to disk in
 * plaintext. It runs as the instance's OS user, logs in as the backup account over the private socket (password in an
 * option file, 0600, the scratch directory, removed after) and dumps every database but the system schemas in one
 * consistent InnoDB snapshot (`--single-transaction`), with routines, events and triggers. Restore: a new data
 * directory with the new cluster's accounts, a private server (socket only, no binlog) fed the dump by `mariadb` as
 * the new cluster's administrator, then the marker last. The system schemas (accounts, grants) are the new cluster's
 * own: its system-account passwords hold; the source's application accounts are not carried (see ADR 0049).
 */
import { randomUUID } from "node:crypto";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { InvalidError, UnavailableError, errorMessage } from "../../errors/index.ts";
import { findExecutableSync } from "../host-binaries.ts";
import { markerContent, markerPath } from "../marker.ts";
import type { BackupContext, BackupMethodDefinition, BackupSink, BackupSource, CommandSpec, Credentials, HostAccess, InstanceContext } from "../types.ts";
import { askMariadb, clientOptionFile } from "./client.ts";
import { PRIVATE_FILE_MODES, PRIVATE_UMASK, mariadbSocketPath } from "./config.ts";
import { createDataDirectory } from "./initialize.ts";
import { withPrivateServer } from "./private-server.ts";

/** Name of the method (the tool's, as MariaDB calls it). */
export const MARIADB_DUMP = "mariadb-dump";
/** The stream holding the SQL. */
export const DUMP_STREAM = "dump.sql";

/** Schemas a dump leaves out: the server's own (accounts, grants, statistics), which a new cluster has of its own. */
export const SYSTEM_SCHEMAS: readonly string[] = ["mysql", "sys", "information_schema", "performance_schema"];

/** The databases to dump: every one but the system schemas (pure). */
export function databasesToDump(names: readonly string[]): string[] {
  return names.filter((name) => name !== "" && !SYSTEM_SCHEMAS.includes(name.toLowerCase())).sort();
}

/**
 * `mariadb-dump` of `databases` over the instance's socket; everything secret is in `optionFile` (first, as the tool
 * requires). One snapshot for InnoDB tables, no table locks, binary columns in hex, rows streamed (`--quick`).
 */
export function dumpCommand(context: InstanceContext, optionFile: string, databases: readonly string[]): CommandSpec {
  if (databases.length === 0) throw new InvalidError("a mariadb-dump needs at least one database");
  return {
    command: findExecutableSync("mariadb-dump") ?? "/usr/bin/mariadb-dump",
    args: [
      `--defaults-extra-file=${optionFile}`, `--socket=${mariadbSocketPath(context)}`, "--protocol=SOCKET",
      "--single-transaction", "--routines", "--events", "--triggers", "--hex-blob", "--quick", "--default-character-set=utf8mb4",
      // `--` ends the options: a database named like an option is still a name.
      "--databases", "--", ...databases,
    ],
    env: { ...PRIVATE_FILE_MODES },
    umask: PRIVATE_UMASK,
  };
}

async function databasesOf(context: BackupContext): Promise<string[]> {
  const rows = await askMariadb({ port: context.instance.port, socket: mariadbSocketPath(context.instance) }, context.account, "SHOW DATABASES");
  return databasesToDump(rows.map((row) => row[0] ?? ""));
}

async function backup(context: BackupContext, sink: BackupSink, host: HostAccess): Promise<void> {
  const { instance, account } = context;
  const optionFile = join(context.scratchDirectory, `mariadb-dump-${randomUUID()}.cnf`);
  try {
    const databases = await databasesOf(context);
    if (databases.length === 0) {
      // Nothing of the applications' yet: an empty dump restores to an empty cluster.
      await sink.writeStream(DUMP_STREAM, Readable.from([Buffer.from("-- no database besides the system schemas\n")]));
      return;
    }
    await host.writeFile(optionFile, clientOptionFile(account), 0o600);
    await host.runStreamingOut(dumpCommand(instance, optionFile, databases), async (stdout) => {
      await sink.writeStream(DUMP_STREAM, stdout);
    }, { cwd: instance.runDirectory, signal: context.signal });
  } finally {
    await rm(optionFile, { force: true });
  }
}

/** The applications' tables' data and indexes: about what the dump holds as SQL. */
async function estimateSize(context: BackupContext): Promise<number | undefined> {
  const schemas = SYSTEM_SCHEMAS.map((name) => `'${name}'`).join(", ");
  const rows = await askMariadb({ port: context.instance.port, socket: mariadbSocketPath(context.instance) }, context.account, `SELECT SUM(data_length + index_length) FROM information_schema.tables WHERE table_schema NOT IN (${schemas})`);
  const bytes = Number(rows[0]?.[0] ?? Number.NaN);
  return Number.isFinite(bytes) && bytes > 0 ? bytes : undefined;
}

/** The new cluster's administrator: the first account (the engine's list puts it first). */
function administrator(accounts: readonly Credentials[]): Credentials {
  const [admin] = accounts;
  if (admin === undefined) throw new InvalidError("a mariadb-dump restore needs the new cluster's administrator credentials");
  return admin;
}

async function restore(context: InstanceContext, source: BackupSource, accounts: readonly Credentials[], host: HostAccess): Promise<void> {
  const admin = administrator(accounts);
  await createDataDirectory(context, accounts, host);
  const optionFile = join(context.runDirectory, `mariadb-dump-restore-${randomUUID()}.cnf`);
  await host.writeFile(optionFile, clientOptionFile(admin), 0o600);
  try {
    await withPrivateServer(context, { optionFile, clientArgs: ["--binary-mode"] }, host, (client) =>
      host.runStreamingIn(client(), source.openStream(DUMP_STREAM), { cwd: context.runDirectory }));
  } catch (error) {
    throw new UnavailableError(`loading the dump into the restored ${context.instanceName} failed: ${errorMessage(error)}`, { cause: error });
  } finally {
    await rm(optionFile, { force: true });
  }
  await host.writeFile(markerPath(context.dataDirectory), markerContent(), 0o600);
}

/** The mariadb-dump method, taken from a replica when there is one, else from the primary. */
export const MARIADB_DUMP_METHOD: BackupMethodDefinition = {
  name: MARIADB_DUMP,
  description: "logical backup with mariadb-dump (one consistent SQL stream of every application database; routines, events, triggers)",
  targetRole: "secondary",
  fallbackRole: "primary",
  backup,
  estimateSize,
  restore,
};
