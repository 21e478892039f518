/**
 * MariaDB's managed users (ADR 0046, "Since 2026-12-06 (evening)"): `'name'@'%'` with an ed25519 password given as
 * its authentication string (computed here, so neither the server, its binlog nor the replicas see the plaintext),
 * holding exactly the grants of its spec: each apply revokes everything and grants the list again in one script.
 * Grants name a database (never `*`, never the system schemas: `*.*` would reach mysql.* and the other accounts'
 * password hashes) and optionally one table, with privileges from an allow-list (no ALL, SUPER, GRANT OPTION, FILE,
 * PROCESS or any other administrative privilege). Accounts replicate with the binlog: applied on the primary only.
 */
import { z } from "zod";
import type { ClientTrust, Credentials, EngineUsers, GrantProblem, InstanceContext } from "../types.ts";
import { grantProblems } from "../grant-problems.ts";
import { sqlString } from "./accounts-sql.ts";
import { ed25519AuthString } from "./auth-hash.ts";
import { askMariadb, runMariadbScript } from "./client.ts";
import { localTarget } from "./server-control.ts";

/** Privileges on a table. */
export const MARIADB_TABLE_PRIVILEGES = ["SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "INDEX", "ALTER", "REFERENCES", "CREATE VIEW", "SHOW VIEW", "TRIGGER"] as const;
/** Privileges on a whole database: a table's, and what only a database has. */
export const MARIADB_DATABASE_PRIVILEGES = [...MARIADB_TABLE_PRIVILEGES, "CREATE TEMPORARY TABLES", "LOCK TABLES", "EXECUTE", "CREATE ROUTINE", "ALTER ROUTINE", "EVENT"] as const;

/** Schemas of the server itself, never granted on: accounts, their password hashes, server state. */
const SYSTEM_SCHEMAS = ["mysql", "information_schema", "performance_schema", "sys"];

const objectName = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, "must be 1-64 letters, digits, '_' or '-' (a named object: '*' would reach the mysql schema)")
  .refine((name) => !SYSTEM_SCHEMAS.includes(name.toLowerCase()), `must not be one of the server's own schemas (${SYSTEM_SCHEMAS.join(", ")})`);

const tableName = z.union([z.literal("*"), z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "must be '*' or 1-64 letters, digits, '_' or '-'")], { error: "must be '*' or a table name" });

/** One MariaDB grant: privileges on every table of a database (`table` `*`, the default) or on one table. */
export const mariadbGrantSchema = z
  .strictObject({
    database: objectName,
    table: tableName.default("*"),
    privileges: z.array(z.enum(MARIADB_DATABASE_PRIVILEGES, { error: `must be one of ${MARIADB_DATABASE_PRIVILEGES.join(", ")}` })).min(1, "list at least one privilege"),
  })
  .superRefine((grant, ctx) => {
    if (grant.table === "*") return;
    grant.privileges.forEach((privilege, index) => {
      if (!(MARIADB_TABLE_PRIVILEGES as readonly string[]).includes(privilege)) ctx.addIssue({ code: "custom", path: ["privileges", index], message: `${privilege} is granted on a whole database (table '*'), not on one table` });
    });
  });
export type MariadbGrant = z.infer<typeof mariadbGrantSchema>;

/** The problems of each grant, by path below `spec.grants` (pure). */
export function mariadbGrantProblems(grants: readonly Record<string, unknown>[]): GrantProblem[] {
  return grantProblems(mariadbGrantSchema, grants);
}

/** Names no managed user may take: the administrator's and the server's own accounts and role (pure). */
export function mariadbUsernameProblem(username: string): string | undefined {
  if (["root", "mysql", "public", "none"].includes(username)) return `${username} is reserved by MariaDB`;
  if (username.startsWith("mariadb")) return "names starting with mariadb are reserved by MariaDB";
  return undefined;
}

/** A backtick-quoted identifier (pure). */
export function quoteIdentifier(name: string): string {
  return `\`${name.replaceAll("`", "``")}\``;
}

/** The account of a managed user: any host, as the system accounts (pure). */
export function mariadbAccount(username: string): string {
  return `${sqlString(username)}@'%'`;
}

/**
 * What a grant is on (pure): `db`.`table`, or `db`.* with `_` escaped (a database-level grant reads `_` and `%` as
 * wildcards: `my_app` would also match `myXapp`).
 */
export function grantObject(grant: MariadbGrant): string {
  if (grant.table !== "*") return `${quoteIdentifier(grant.database)}.${quoteIdentifier(grant.table)}`;
  return `${quoteIdentifier(grant.database.replaceAll("_", "\\_"))}.*`;
}

/**
 * The script that makes the user log in with the ed25519 `authString` and hold exactly `grants` (pure): created when
 * missing, its password set, every privilege revoked, then each grant given, one script on one connection.
 */
export function applyUserSql(username: string, authString: string, grants: readonly MariadbGrant[]): string {
  const account = mariadbAccount(username);
  const password = `IDENTIFIED VIA ed25519 USING ${sqlString(authString)}`;
  return [
    `CREATE USER IF NOT EXISTS ${account} ${password};`,
    `ALTER USER ${account} ${password};`,
    `REVOKE ALL PRIVILEGES, GRANT OPTION FROM ${account};`,
    ...grants.map((g) => `GRANT ${[...new Set(g.privileges)].join(", ")} ON ${grantObject(g)} TO ${account};`),
    "",
  ].join("\n");
}

/** The statement listing the connection ids of `username` (pure). */
export function sessionsSql(username: string): string {
  return `SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ${sqlString(username)}`;
}

async function apply(context: InstanceContext, admin: Credentials, account: Credentials, raw: readonly Record<string, unknown>[], _trust: ClientTrust): Promise<void> {
  const grants = raw.map((g) => mariadbGrantSchema.parse(g));
  await runMariadbScript(localTarget(context), admin, applyUserSql(account.username, ed25519AuthString(account.password), grants));
}

/** Drop the user (no new login), then end its sessions on this server (KILL is not replicated: the primary's only). */
async function drop(context: InstanceContext, admin: Credentials, username: string, _trust: ClientTrust): Promise<void> {
  const target = localTarget(context);
  await askMariadb(target, admin, `DROP USER IF EXISTS ${mariadbAccount(username)}`);
  const sessions = await askMariadb(target, admin, sessionsSql(username));
  for (const [id] of sessions) {
    // A session that ended meanwhile is no error.
    if (id !== undefined && /^\d+$/u.test(id)) await askMariadb(target, admin, `KILL CONNECTION ${id}`).catch(() => undefined);
  }
}

/** MariaDB's managed users. */
export const MARIADB_USERS: EngineUsers = {
  scope: "primary",
  usernameProblem: mariadbUsernameProblem,
  grantProblems: mariadbGrantProblems,
  apply,
  drop,
};
