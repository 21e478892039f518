/**
 * The system accounts of a running server: the ones after the administrator (the backup account) are created when
 * missing and given their password and rights, on each instance itself (not through the binlog), as the administrator
 * over the instance's private socket; the statements go to the client's stdin, never argv.
 */
import type { Credentials, InstanceContext } from "../types.ts";
import { ensureAccountsSql } from "./accounts-sql.ts";
import { runMariadbScript } from "./client.ts";
import { mariadbSocketPath } from "./config.ts";

/** Give the running instance on `context` the system accounts `accounts` (administrator first, left as it is). */
export async function ensureMariadbAccounts(context: InstanceContext, accounts: readonly Credentials[]): Promise<void> {
  const [admin] = accounts;
  if (admin === undefined || accounts.length < 2) return;
  await runMariadbScript({ port: context.port, socket: mariadbSocketPath(context) }, admin, ensureAccountsSql(accounts));
}
