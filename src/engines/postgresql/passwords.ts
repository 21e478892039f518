/**
 * Online password changes (ADR 0038): `ALTER ROLE … PASSWORD` with a SCRAM-SHA-256 verifier computed here, on the
 * primary (roles replicate to the replicas), and a replica's replication passfile rewritten for its next connection.
 */
import { access, constants } from "node:fs/promises";
import { join } from "node:path";
import type { ClientTrust, Credentials, EnginePasswords, HostAccess, InstanceContext } from "../types.ts";
import { peerPassfile } from "./conninfo.ts";
import { REPLICATION_ACCOUNT, REPLICATION_PASSFILE } from "./replication-config.ts";
import { scramSha256Verifier } from "./scram.ts";
import { quoteIdentifier, quoteLiteral, withSession } from "./session.ts";

/** The statements that set `username`'s password to `verifier`, kept out of the server log even with log_statement=all. */
export function changePasswordStatements(username: string, verifier: string): string[] {
  return [
    "SET LOCAL log_statement = 'none'",
    "SET LOCAL log_min_duration_statement = -1",
    // A replica is not waited for: the role reaches it through WAL all the same.
    "SET LOCAL synchronous_commit = local",
    `ALTER ROLE ${quoteIdentifier(username)} PASSWORD ${quoteLiteral(verifier)}`,
  ];
}

async function change(context: InstanceContext, admin: Credentials, account: Credentials, _trust: ClientTrust): Promise<void> {
  const statements = changePasswordStatements(account.username, scramSha256Verifier(account.password));
  await withSession(context.port, admin, async (client) => {
    await client.query("BEGIN");
    try {
      for (const statement of statements) await client.query(statement);
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    }
  });
}

/** A standby's primary_conninfo names its passfile: rewritten, libpq reads it at the next (re)connection. */
async function useForOwnConnections(context: InstanceContext, account: Credentials, host: HostAccess): Promise<void> {
  if (account.username !== REPLICATION_ACCOUNT.name) return;
  const passfile = join(context.runDirectory, REPLICATION_PASSFILE);
  // Only a standby has one (a primary keeps no copy of the replication password).
  const exists = await access(passfile, constants.F_OK).then(() => true, () => false);
  if (exists) await host.writeFile(passfile, peerPassfile(account, "*"), 0o600);
}

/** PostgreSQL's online password changes. */
export const POSTGRESQL_PASSWORDS: EnginePasswords = {
  scope: "primary",
  refuses: () => undefined,
  change,
  useForOwnConnections,
};
