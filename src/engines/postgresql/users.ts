/**
 * PostgreSQL's managed users (ADR 0046): a LOGIN role with no attribute (no superuser, createdb, createrole,
 * replication, bypassrls) whose password is set as a SCRAM-SHA-256 verifier computed here, with the statement kept out of
 * the server log; and exactly the privileges its grants list, in every database: each database's privileges of the
 * role are revoked and granted again in one transaction, so a grant removed from the spec is revoked and none is
 * missing in between. Roles replicate: applied on the primary.
 */
import type pg from "pg";
import { z } from "zod";
import type { ClientTrust, Credentials, EngineUsers, GrantProblem, InstanceContext } from "../types.ts";
import { grantProblems } from "../grant-problems.ts";
import { scramSha256Verifier } from "./scram.ts";
import { quoteIdentifier, quoteLiteral, withSession } from "./session.ts";

/** A database or schema name as grants take it: letters, digits, `_`, `$` and `-` (quoted in SQL). */
const objectName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_$-]{0,62}$/, "must be a name of letters, digits, '_', '$' and '-', starting with a letter or '_'");

const databaseGrant = z.strictObject({
  on: z.literal("database"),
  database: objectName,
  privileges: z.array(z.enum(["CONNECT", "CREATE", "TEMPORARY"])).min(1, "list at least one of CONNECT, CREATE, TEMPORARY"),
});
const schemaGrant = z.strictObject({
  on: z.literal("schema"),
  database: objectName,
  schema: objectName,
  privileges: z.array(z.enum(["USAGE", "CREATE"])).min(1, "list at least one of USAGE, CREATE"),
});
const tablesGrant = z.strictObject({
  on: z.literal("tables"),
  database: objectName,
  schema: objectName,
  privileges: z.array(z.enum(["SELECT", "INSERT", "UPDATE", "DELETE"])).min(1, "list at least one of SELECT, INSERT, UPDATE, DELETE"),
  /** Also on tables the administrator creates in the schema later (ALTER DEFAULT PRIVILEGES); default true. */
  defaultPrivileges: z.boolean().default(true),
});

/** One PostgreSQL grant: on a database, on a schema, or on all tables of a schema (with default privileges). */
export const postgresqlGrantSchema = z.discriminatedUnion("on", [databaseGrant, schemaGrant, tablesGrant], { error: "on must be database, schema or tables" });
export type PostgresqlGrant = z.infer<typeof postgresqlGrantSchema>;

/** The problems of each grant, by path below `spec.grants` (pure). */
export function postgresqlGrantProblems(grants: readonly Record<string, unknown>[]): GrantProblem[] {
  return grantProblems(postgresqlGrantSchema, grants);
}

/** Names no managed user may take: the administrator's, Holdfast's own roles and PostgreSQL's reserved `pg_` prefix. */
export function postgresqlUsernameProblem(username: string): string | undefined {
  if (username.startsWith("pg_")) return "names starting with pg_ are reserved by PostgreSQL";
  if (username === "postgres" || username === "public") return `${username} is reserved`;
  return undefined;
}

/** The statements that create or update the role with `verifier` as its password, kept out of the server log (pure). */
export function roleStatements(username: string, verifier: string, exists: boolean): string[] {
  return [
    "SET LOCAL log_statement = 'none'",
    "SET LOCAL log_min_duration_statement = -1",
    `${exists ? "ALTER" : "CREATE"} ROLE ${quoteIdentifier(username)} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD ${quoteLiteral(verifier)}`,
  ];
}

/**
 * Revoke every privilege of the role in one database: on it, on each of its schemas, their tables and default
 * privileges (pure). A database the role owns (Database, ADR 0053) keeps its owner's privileges on it.
 */
export function revokeStatements(username: string, database: string, schemas: readonly string[], ownsDatabase = false): string[] {
  const role = quoteIdentifier(username);
  return [
    ...(ownsDatabase ? [] : [`REVOKE ALL ON DATABASE ${quoteIdentifier(database)} FROM ${role}`]),
    ...schemas.flatMap((schema) => {
      const s = quoteIdentifier(schema);
      return [`REVOKE ALL ON SCHEMA ${s} FROM ${role}`, `REVOKE ALL ON ALL TABLES IN SCHEMA ${s} FROM ${role}`, `ALTER DEFAULT PRIVILEGES IN SCHEMA ${s} REVOKE ALL ON TABLES FROM ${role}`];
    }),
  ];
}

/** The GRANT statements of the grants on `database` (pure). */
export function grantStatements(username: string, database: string, grants: readonly PostgresqlGrant[]): string[] {
  const role = quoteIdentifier(username);
  return grants
    .filter((g) => g.database === database)
    .flatMap((g) => {
      const privileges = g.privileges.join(", ");
      if (g.on === "database") return [`GRANT ${privileges} ON DATABASE ${quoteIdentifier(g.database)} TO ${role}`];
      const schema = quoteIdentifier(g.schema);
      if (g.on === "schema") return [`GRANT ${privileges} ON SCHEMA ${schema} TO ${role}`];
      const tables = `GRANT ${privileges} ON ALL TABLES IN SCHEMA ${schema} TO ${role}`;
      return g.defaultPrivileges ? [tables, `ALTER DEFAULT PRIVILEGES IN SCHEMA ${schema} GRANT ${privileges} ON TABLES TO ${role}`] : [tables];
    });
}

type Client = pg.Client;

/** Run `statements` in one transaction that does not wait for synchronous standbys (they get it through WAL all the same). */
async function inTransaction(client: Client, statements: readonly string[]): Promise<void> {
  await client.query("BEGIN");
  try {
    await client.query("SET LOCAL synchronous_commit = local");
    for (const statement of statements) await client.query(statement);
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

/** The databases one can connect to, with their owners. */
async function databases(port: number, admin: Credentials): Promise<{ name: string; owner: string }[]> {
  return withSession(port, admin, async (client) => {
    const rows = await client.query<{ name: string; owner: string }>("SELECT datname AS name, pg_catalog.pg_get_userbyid(datdba) AS owner FROM pg_catalog.pg_database WHERE datallowconn AND NOT datistemplate ORDER BY datname");
    return rows.rows;
  });
}

/** In `database`: revoke every privilege of the role (but an owner's on its database), then run `more` (grants), in one transaction. */
async function resetPrivileges(port: number, admin: Credentials, target: { username: string; database: { name: string; owner: string } }, more: readonly string[]): Promise<void> {
  const { name, owner } = target.database;
  await withSession(port, admin, async (client) => {
    const rows = await client.query<{ nspname: string }>("SELECT nspname FROM pg_catalog.pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' ORDER BY nspname");
    await inTransaction(client, [...revokeStatements(target.username, name, rows.rows.map((r) => r.nspname), owner === target.username), ...more]);
  }, { database: name });
}

async function roleExists(client: Client, username: string): Promise<boolean> {
  return (await client.query("SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1", [username])).rowCount === 1;
}

async function apply(context: InstanceContext, admin: Credentials, account: Credentials, raw: readonly Record<string, unknown>[], _trust: ClientTrust): Promise<void> {
  const grants = raw.map((g) => postgresqlGrantSchema.parse(g));
  const verifier = scramSha256Verifier(account.password);
  await withSession(context.port, admin, async (client) => inTransaction(client, roleStatements(account.username, verifier, await roleExists(client, account.username))));
  const existing = await databases(context.port, admin);
  const missing = grants.find((g) => !existing.some((d) => d.name === g.database));
  if (missing !== undefined) throw new Error(`database ${missing.database} does not exist: create it (a Database), or remove the grants on it`);
  for (const database of existing) await resetPrivileges(context.port, admin, { username: account.username, database }, grantStatements(account.username, database.name, grants));
}

async function drop(context: InstanceContext, admin: Credentials, username: string, _trust: ClientTrust): Promise<void> {
  const exists = await withSession(context.port, admin, (client) => roleExists(client, username));
  if (!exists) return;
  for (const database of await databases(context.port, admin)) await resetPrivileges(context.port, admin, { username, database }, []);
  await withSession(context.port, admin, async (client) => {
    await client.query("SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity WHERE usename = $1", [username]);
    await inTransaction(client, [`DROP ROLE IF EXISTS ${quoteIdentifier(username)}`]);
  });
}

/** PostgreSQL's managed users. */
export const POSTGRESQL_USERS: EngineUsers = {
  scope: "primary",
  usernameProblem: postgresqlUsernameProblem,
  grantProblems: postgresqlGrantProblems,
  apply,
  drop,
};
