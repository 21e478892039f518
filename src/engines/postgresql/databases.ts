/**
 * PostgreSQL's managed databases (ADR 0053): `CREATE DATABASE ... OWNER ... ENCODING ... LC_COLLATE/LC_CTYPE ...
 * TEMPLATE template0` (template0, so that any allowed encoding and locale can be asked for), `ALTER DATABASE` for the
 * mutable fields (owner, connection limit, allow connections), `DROP DATABASE ... WITH (FORCE)`; every name quoted.
 * Encodings and locales come from a fixed allow-list the server can always honour (the C locales are built in).
 * Databases replicate: applied on the primary. The statements run outside a transaction (CREATE and DROP DATABASE
 * cannot run in one), with synchronous_commit local: standbys get them through WAL all the same.
 */
import type pg from "pg";
import type { ClientTrust, Credentials, DatabaseProblem, EngineDatabases, InstanceContext, ServerDatabaseSpec } from "../types.ts";
import { quoteIdentifier, quoteLiteral, withSession } from "./session.ts";

/** The encodings a database may be created with. */
export const POSTGRESQL_ENCODINGS = ["UTF8", "LATIN1", "SQL_ASCII"] as const;
/** The locales (LC_COLLATE and LC_CTYPE) a database may be created with: those every PostgreSQL host has. */
export const POSTGRESQL_LOCALES = ["C", "POSIX", "C.UTF-8"] as const;
/** Databases PostgreSQL and Holdfast keep for themselves. */
const RESERVED = ["postgres", "template0", "template1"];

/** `C.UTF-8`, `C.utf8` and `c.utf-8` are one locale; `UTF8` and `utf-8` one encoding (pure). */
function canonical(name: string): string {
  return name.toLowerCase().replaceAll("-", "");
}

function oneOf(value: string, allowed: readonly string[]): boolean {
  return allowed.some((a) => canonical(a) === canonical(value));
}

/** The problems of a database spec (pure): a reserved name, an encoding or locale off the allow-list or not matching. */
export function postgresqlDatabaseProblems(database: ServerDatabaseSpec): DatabaseProblem[] {
  const problems: DatabaseProblem[] = [];
  if (RESERVED.includes(database.name)) problems.push({ field: "name", message: `${database.name} is PostgreSQL's own database` });
  const { encoding, locale } = database;
  if (encoding !== undefined && !oneOf(encoding, POSTGRESQL_ENCODINGS)) problems.push({ field: "encoding", message: `${encoding} is not one of ${POSTGRESQL_ENCODINGS.join(", ")}` });
  if (locale !== undefined && !oneOf(locale, POSTGRESQL_LOCALES)) problems.push({ field: "locale", message: `${locale} is not one of ${POSTGRESQL_LOCALES.join(", ")}` });
  // The server's default locale is C.UTF-8 (initdb): an encoding other than UTF8 needs the C locale, named.
  const utf8Locale = locale === undefined || canonical(locale) === canonical("C.UTF-8");
  if (encoding !== undefined && canonical(encoding) !== "utf8" && oneOf(encoding, POSTGRESQL_ENCODINGS) && utf8Locale) {
    problems.push({ field: "locale", message: `encoding ${encoding} needs locale C or POSIX (${locale ?? "the default, C.UTF-8"} is UTF-8 only)` });
  }
  return problems;
}

/** The CREATE DATABASE statement (pure). */
export function createDatabaseStatement(database: ServerDatabaseSpec, owner: string): string {
  const parts = [`CREATE DATABASE ${quoteIdentifier(database.name)}`, `OWNER ${quoteIdentifier(owner)}`, "TEMPLATE template0"];
  if (database.encoding !== undefined) parts.push(`ENCODING ${quoteLiteral(database.encoding)}`);
  if (database.locale !== undefined) parts.push(`LC_COLLATE ${quoteLiteral(database.locale)}`, `LC_CTYPE ${quoteLiteral(database.locale)}`);
  parts.push(`CONNECTION LIMIT ${Math.trunc(database.connectionLimit)}`, `ALLOW_CONNECTIONS ${database.allowConnections ? "true" : "false"}`);
  return parts.join(" ");
}

/** The ALTER DATABASE statements that set the mutable fields of an existing database (pure). */
export function alterDatabaseStatements(database: ServerDatabaseSpec, owner: string): string[] {
  const name = quoteIdentifier(database.name);
  return [
    `ALTER DATABASE ${name} OWNER TO ${quoteIdentifier(owner)}`,
    `ALTER DATABASE ${name} WITH CONNECTION LIMIT ${Math.trunc(database.connectionLimit)} ALLOW_CONNECTIONS ${database.allowConnections ? "true" : "false"}`,
  ];
}

/** The DROP DATABASE statement: its sessions are ended (pure). */
export function dropDatabaseStatement(name: string): string {
  return `DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`;
}

/** An existing database's fixed settings as the server reports them. */
export interface ExistingDatabase {
  encoding: string;
  collate: string;
  ctype: string;
}

/** Why an existing database cannot be what the spec asks (its encoding or locale differ: they are fixed), or undefined (pure). */
export function fixedSettingsProblem(database: ServerDatabaseSpec, existing: ExistingDatabase): string | undefined {
  if (database.encoding !== undefined && canonical(database.encoding) !== canonical(existing.encoding)) {
    return `database ${database.name} exists with encoding ${existing.encoding}, not ${database.encoding}: an encoding is fixed at creation`;
  }
  const differs = database.locale !== undefined && [existing.collate, existing.ctype].some((l) => canonical(l) !== canonical(database.locale ?? ""));
  if (differs) return `database ${database.name} exists with locale ${existing.collate}/${existing.ctype}, not ${database.locale}: a locale is fixed at creation`;
  return undefined;
}

async function existingDatabase(client: pg.Client, name: string): Promise<ExistingDatabase | undefined> {
  const rows = await client.query<ExistingDatabase>("SELECT pg_catalog.pg_encoding_to_char(encoding) AS encoding, datcollate AS collate, datctype AS ctype FROM pg_catalog.pg_database WHERE datname = $1", [name]);
  return rows.rows[0];
}

async function ensurePresent(client: pg.Client, database: ServerDatabaseSpec, owner: string): Promise<void> {
  const role = await client.query("SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1", [owner]);
  if (role.rowCount !== 1) throw new Error(`owner ${owner} does not exist yet: its DatabaseUser is applied first, then the database`);
  const existing = await existingDatabase(client, database.name);
  if (existing === undefined) {
    await client.query(createDatabaseStatement(database, owner));
    return;
  }
  const problem = fixedSettingsProblem(database, existing);
  if (problem !== undefined) throw new Error(problem);
  for (const statement of alterDatabaseStatements(database, owner)) await client.query(statement);
}

async function apply(context: InstanceContext, admin: Credentials, database: ServerDatabaseSpec, _trust: ClientTrust): Promise<void> {
  await withSession(context.port, admin, async (client) => {
    await client.query("SET synchronous_commit = local");
    if (database.ensure === "absent") await client.query(dropDatabaseStatement(database.name));
    else await ensurePresent(client, database, database.owner ?? admin.username);
  }, { queryTimeoutMs: 60_000 });
}

async function drop(context: InstanceContext, admin: Credentials, name: string, _trust: ClientTrust): Promise<void> {
  await withSession(context.port, admin, async (client) => {
    await client.query("SET synchronous_commit = local");
    await client.query(dropDatabaseStatement(name));
  }, { queryTimeoutMs: 60_000 });
}

/** PostgreSQL's managed databases. */
export const POSTGRESQL_DATABASES: EngineDatabases = { problems: postgresqlDatabaseProblems, apply, drop };
