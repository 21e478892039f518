/** The replication account on the primary: a LOGIN REPLICATION role that can also run pg_rewind. */
import { UnavailableError, errorMessage } from "../../errors/index.ts";
import type { Credentials } from "../types.ts";
import { scramSha256Verifier } from "./scram.ts";
import { quoteIdentifier, quoteLiteral, targetName, withSession, type SessionTarget } from "./session.ts";

/** Functions pg_rewind calls on its source; granting them spares it a superuser (PostgreSQL's pg_rewind docs). */
const REWIND_FUNCTIONS = [
  "pg_catalog.pg_ls_dir(text, boolean, boolean)",
  "pg_catalog.pg_stat_file(text, boolean)",
  "pg_catalog.pg_read_binary_file(text)",
  "pg_catalog.pg_read_binary_file(text, bigint, bigint, boolean)",
];

/** The statements that create (or bring up to date) the role `username` with `verifier` as its password. */
export function replicationAccountStatements(username: string, verifier: string, exists: boolean): string[] {
  const role = quoteIdentifier(username);
  return [
    // The verifier is not the password, but it is still nobody's business: keep it out of the server log.
    "SET LOCAL log_statement = 'none'",
    "SET LOCAL log_min_duration_statement = -1",
    `${exists ? "ALTER" : "CREATE"} ROLE ${role} WITH LOGIN REPLICATION NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD ${quoteLiteral(verifier)}`,
    ...REWIND_FUNCTIONS.map((fn) => `GRANT EXECUTE ON FUNCTION ${fn} TO ${role}`),
  ];
}

/**
 * Create the replication role on the primary `server` (a port on this node, or a peer), or reset its attributes and password.
 * Standbys get it through WAL, so a promoted standby already has it.
 */
export async function ensureReplicationAccount(server: SessionTarget, admin: Credentials, replication: Credentials): Promise<void> {
  const verifier = scramSha256Verifier(replication.password);
  await ensureRole(server, admin, { what: "replication account", username: replication.username }, (exists) => replicationAccountStatements(replication.username, verifier, exists));
}

/**
 * Run the statements that create or update role `role.username` on the primary `server`, in one transaction that does not
 * wait for synchronous standbys (a clone that restores the quorum needs the role before any replica streams).
 */
export async function ensureRole(server: SessionTarget, admin: Credentials, role: { what: string; username: string }, statements: (exists: boolean) => string[]): Promise<void> {
  await withSession(server, admin, async (client) => {
    await client.query("BEGIN");
    try {
      await client.query("SET LOCAL synchronous_commit = local");
      const found = await client.query("SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1", [role.username]);
      for (const statement of statements(found.rowCount === 1)) await client.query(statement);
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw new UnavailableError(`cannot set up ${role.what} ${role.username} on ${targetName(server)}: ${errorMessage(error)}; it can only be created on the primary`, { cause: error });
    }
  });
}
