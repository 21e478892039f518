/**
 * The `pgdump` backup method: a logical backup. Streams: `globals.sql` (pg_dumpall --globals-only: roles,
 * memberships, tablespaces), `databases.json` (which database each dump holds) and one `pg_dump -Fc` archive per
 * database that accepts connections. Restore initialises a fresh cluster with the new accounts, runs a temporary
 * server on the instance's own port (loopback only), applies the globals without the system accounts' passwords
 * (the new cluster keeps its own) and pg_restores every database, stops the server, and marks the directory last.
 */
import { HOLDFAST_SESSIONS } from "../own-sessions.ts";
import { randomUUID } from "node:crypto";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { z } from "zod";
import { InvalidError } from "../../errors/index.ts";
import { markerContent, markerPath } from "../marker.ts";
import type { BackupContext, BackupMethodDefinition, BackupSink, BackupSource, CommandSpec, Credentials, HostAccess, InstanceContext } from "../types.ts";
import { loopbackPassfile, renderConninfo } from "./conninfo.ts";
import { configurePostgresql, runInitdb } from "./initialize.ts";
import { POSTGRESQL_ACCOUNTS } from "./definition.ts";
import { POSTGRESQL_MONITOR_ACCOUNT } from "./exporter.ts";
import { REPLICATION_ACCOUNT } from "./replication-config.ts";
import { quoteIdentifier, withSession } from "./session.ts";

const GLOBALS = "globals.sql";
const DATABASES = "databases.json";
const MAX_GLOBALS_BYTES = 64 * 1024 * 1024;
const SERVER_TIMEOUT_S = "300";

const databasesSchema = z.array(z.object({ name: z.string().min(1), stream: z.string().regex(/^database-\d{4,}\.dump$/) }));

/** Where a tool connects: loopback, the instance's port, the account's passfile. */
interface Target {
  context: InstanceContext;
  user: string;
  passfile: string;
}

function tool(target: Target, name: string, args: string[]): CommandSpec {
  return { command: join(target.context.version.binDir, name), args, env: { PGPASSFILE: target.passfile, PGAPPNAME: HOLDFAST_SESSIONS.toolApplicationName("pgdump") } };
}

function conninfo(target: Target, database: string): string {
  return renderConninfo({ host: "127.0.0.1", port: target.context.port, user: target.user, dbname: database, passfile: target.passfile });
}

/** Databases to dump: every one that accepts connections, templates aside. */
async function databasesOf(context: InstanceContext, account: Credentials): Promise<string[]> {
  return withSession(context.port, account, async (client) => {
    const result = await client.query<{ datname: string }>("select datname from pg_catalog.pg_database where datallowconn and not datistemplate order by datname");
    return result.rows.map((row) => row.datname);
  });
}

async function backup(context: BackupContext, sink: BackupSink, host: HostAccess): Promise<void> {
  const target: Target = { context: context.instance, user: context.account.username, passfile: join(context.scratchDirectory, `pgdump-${randomUUID()}.pgpass`) };
  const options = { cwd: context.instance.runDirectory, signal: context.signal };
  try {
    await host.writeFile(target.passfile, loopbackPassfile(context.account), 0o600);
    const databases = (await databasesOf(context.instance, context.account)).map((name, index) => ({ name, stream: `database-${String(index + 1).padStart(4, "0")}.dump` }));
    await sink.writeStream(DATABASES, Readable.from([Buffer.from(JSON.stringify(databases))]));
    const globals = tool(target, "pg_dumpall", ["--globals-only", "--no-password", `--dbname=${conninfo(target, "postgres")}`]);
    await host.runStreamingOut(globals, async (stdout) => {
      await sink.writeStream(GLOBALS, stdout);
    }, options);
    for (const database of databases) {
      const dump = tool(target, "pg_dump", ["--format=custom", "--no-password", `--dbname=${conninfo(target, database.name)}`]);
      await host.runStreamingOut(dump, async (stdout) => {
        await sink.writeStream(database.stream, stdout);
      }, options);
    }
  } finally {
    await rm(target.passfile, { force: true });
  }
}

/**
 * The globals for a fresh cluster: no CREATE ROLE for accounts initdb already made (`existing`), and no password for
 * the system accounts (`system`): the new cluster keeps its own. Other roles keep theirs (as SCRAM verifiers).
 */
export function globalsForNewCluster(globals: string, existing: readonly string[], system: readonly string[]): string {
  const names = (list: readonly string[]): Set<string> => new Set(list.flatMap((name) => [name, quoteIdentifier(name)]));
  const [made, accounts] = [names(existing), names(system)];
  return globals
    .split("\n")
    .flatMap((line) => {
      const [, verb, role] = /^(CREATE|ALTER) ROLE ("(?:[^"]|"")+"|[^\s;]+)[\s;]/.exec(line) ?? [];
      if (role === undefined) return [line];
      if (verb === "CREATE" && made.has(role)) return [];
      return [accounts.has(role) ? line.replace(/ PASSWORD '[^']*'/, "") : line];
    })
    .join("\n");
}

async function readAll(stream: Readable, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new InvalidError(`the backup's ${GLOBALS} is larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Apply the globals and every database into the running temporary server. */
async function load(target: Target, source: BackupSource, host: HostAccess): Promise<void> {
  const options = { cwd: target.context.runDirectory };
  const databases = databasesSchema.parse(JSON.parse(await readAll(source.openStream(DATABASES), MAX_GLOBALS_BYTES)));
  const made = POSTGRESQL_ACCOUNTS.map((account) => account.name);
  const globals = globalsForNewCluster(await readAll(source.openStream(GLOBALS), MAX_GLOBALS_BYTES), made, [...made, REPLICATION_ACCOUNT.name, POSTGRESQL_MONITOR_ACCOUNT.name]);
  const psql = tool(target, "psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "--no-password", `--dbname=${conninfo(target, "postgres")}`]);
  await host.runStreamingIn(psql, Readable.from([Buffer.from(globals)]), options);
  for (const database of databases) {
    // The postgres database exists in a fresh cluster: restore into it; the others are created from their dump.
    const into = database.name === "postgres" ? ["--dbname", conninfo(target, "postgres")] : ["--create", "--dbname", conninfo(target, "postgres")];
    await host.runStreamingIn(tool(target, "pg_restore", ["--exit-on-error", "--no-password", ...into]), source.openStream(database.stream), options);
  }
}

function pgCtl(context: InstanceContext, args: string[]): CommandSpec {
  return { command: join(context.version.binDir, "pg_ctl"), args: [...args, "-D", context.dataDirectory, "-w", "-t", SERVER_TIMEOUT_S] };
}

async function restore(context: InstanceContext, source: BackupSource, accounts: readonly Credentials[], host: HostAccess): Promise<void> {
  const admin = accounts.find((account) => account.username === POSTGRESQL_ACCOUNTS[0]?.name);
  if (admin === undefined) throw new InvalidError("a pgdump restore needs the new cluster's superuser credentials");
  await runInitdb(context, accounts, host);
  await configurePostgresql(context, host);
  const target: Target = { context, user: admin.username, passfile: join(context.runDirectory, `pgrestore-${randomUUID()}.pgpass`) };
  await host.writeFile(target.passfile, loopbackPassfile(admin), 0o600);
  const log = join(context.runDirectory, "pgdump-restore.log");
  try {
    await host.run(pgCtl(context, ["start", "-l", log]), { cwd: context.runDirectory, timeoutMs: 310_000 });
    try {
      await load(target, source, host);
    } finally {
      await host.run(pgCtl(context, ["stop", "-m", "fast"]), { cwd: context.runDirectory, timeoutMs: 310_000 });
    }
  } finally {
    await rm(target.passfile, { force: true });
  }
  await host.writeFile(markerPath(context.dataDirectory), markerContent(), 0o600);
}

/** The pgdump method: a logical backup, taken from a standby when there is one, else from the primary. */
export const PG_DUMP: BackupMethodDefinition = {
  name: "pgdump",
  description: "logical backup with pg_dump (custom format, one archive per database) and the roles of pg_dumpall --globals-only",
  targetRole: "secondary",
  fallbackRole: "primary",
  backup,
  restore,
};
