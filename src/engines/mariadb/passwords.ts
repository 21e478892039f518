/**
 * Online password changes of MariaDB (ADR 0038, "Since 2026-12-06 (evening)"): `ALTER USER IF EXISTS … IDENTIFIED VIA
 * … USING '<authentication string>'` on the primary, the string computed here (ed25519 for root and the managed users,
 * mysql_native_password for the replication account, as they were created), so the binlog that carries the change to
 * the replicas holds no plaintext. `IF EXISTS`: a replica that lacks the account never stops on the statement. A
 * replica then points its own replication connection at the new password (`CHANGE MASTER TO MASTER_PASSWORD`, on the
 * client's stdin), used from its next connection to the primary; the connection it has stays up meanwhile.
 */
import type { ClientTrust, Credentials, EnginePasswords, HostAccess, InstanceContext, PasswordSession } from "../types.ts";
import { sqlString } from "./accounts-sql.ts";
import { ed25519AuthString, nativePasswordAuthString } from "./auth-hash.ts";
import { askMariadbRecords, runMariadbScript } from "./client.ts";
import { MARIADB_REPLICATION_ACCOUNT } from "./definition.ts";
import { localTarget } from "./server-control.ts";
import { mariadbAccount } from "./users.ts";

/** The statement that sets `account`'s password, as its authentication string in the plugin it logs in with (pure). */
export function changePasswordSql(account: Credentials): string {
  const password = account.username === MARIADB_REPLICATION_ACCOUNT.name
    ? `IDENTIFIED VIA mysql_native_password USING ${sqlString(nativePasswordAuthString(account.password))}`
    : `IDENTIFIED VIA ed25519 USING ${sqlString(ed25519AuthString(account.password))}`;
  return `ALTER USER IF EXISTS ${mariadbAccount(account.username)} ${password};\n`;
}

/** A replica's replication connection re-pointed at `password` (pure): the threads stop, the password is set, they start. */
export function replicationPasswordSql(password: string): string {
  return ["STOP SLAVE;", `CHANGE MASTER TO MASTER_PASSWORD = ${sqlString(password)};`, "START SLAVE;", ""].join("\n");
}

async function change(context: InstanceContext, admin: Credentials, account: Credentials, _trust: ClientTrust): Promise<void> {
  await runMariadbScript(localTarget(context), admin, changePasswordSql(account));
}

/** On a replica (one that has a primary configured), the replication connection uses the new password from its next login. */
async function useForOwnConnections(context: InstanceContext, account: Credentials, _host: HostAccess, session: PasswordSession): Promise<void> {
  if (account.username !== MARIADB_REPLICATION_ACCOUNT.name) return;
  const target = localTarget(context);
  const status = await askMariadbRecords(target, session.admin, "SHOW SLAVE STATUS");
  if (status.length === 0) return;
  await runMariadbScript(target, session.admin, replicationPasswordSql(account.password));
}

/** MariaDB's online password changes. */
export const MARIADB_PASSWORDS: EnginePasswords = {
  scope: "primary",
  refuses: () => undefined,
  change,
  useForOwnConnections,
};
