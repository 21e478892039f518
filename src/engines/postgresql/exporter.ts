/**
 * PostgreSQL's exporter: Debian's prometheus-postgres-exporter (0.11), logging in as a LOGIN role that holds
 * pg_monitor and nothing else. Its password reaches it through DATA_SOURCE_PASS_FILE, the exporter's file-based
 * setting: the environment carries the file's path, never the password (ADR 0035).
 */
import { LOOPBACK } from "../address.ts";
import type { ClientTrust, Credentials, EngineExporter, ExporterOptions, InstanceContext } from "../types.ts";
import { scramSha256Verifier } from "./scram.ts";
import { ensureRole } from "./replication-account.ts";
import { quoteIdentifier, quoteLiteral } from "./session.ts";

/** The monitoring role's name. */
export const POSTGRESQL_MONITOR_ACCOUNT = { name: "kbmonitoring", purpose: "metrics exporter: pg_monitor only (reads statistics and settings, no data)" };

/** The statements that create (or bring up to date) the monitoring role (pure). */
export function monitorAccountStatements(username: string, verifier: string, exists: boolean): string[] {
  const role = quoteIdentifier(username);
  return [
    "SET LOCAL log_statement = 'none'",
    "SET LOCAL log_min_duration_statement = -1",
    `${exists ? "ALTER" : "CREATE"} ROLE ${role} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS CONNECTION LIMIT 5 PASSWORD ${quoteLiteral(verifier)}`,
    `GRANT pg_monitor TO ${role}`,
  ];
}

async function ensureMonitorAccount(context: InstanceContext, admin: Credentials, account: Credentials, _trust: ClientTrust): Promise<void> {
  // Roles replicate: a standby has the primary's.
  if (context.role !== "primary") return;
  const verifier = scramSha256Verifier(account.password);
  await ensureRole(context.port, admin, { what: "monitoring account", username: account.username }, (exists) => monitorAccountStatements(account.username, verifier, exists));
}

/**
 * The exporter's command: it reaches the server over loopback, in TLS whenever the server has it (a server serving
 * clients in TLS only refuses anything else; no check of the name on loopback, as the node agent's sessions) (pure).
 */
export function postgresqlExporterCommand(context: InstanceContext, options: ExporterOptions): ReturnType<EngineExporter["command"]> {
  return {
    command: {
      command: "/usr/bin/prometheus-postgres-exporter",
      // Info, as redis_exporter's default: its start and where it listens are in `holdfast logs -c exporter` (it logs no scrapes, and its DSNs without the password).
      args: [`--web.listen-address=${options.listen}`, "--log.level=info"],
      env: {
        DATA_SOURCE_URI: `${LOOPBACK}:${context.port}/postgres?sslmode=${context.tls === undefined ? "disable" : "require"}&connect_timeout=5`,
        DATA_SOURCE_USER: options.account.username,
        DATA_SOURCE_PASS_FILE: options.passwordFile,
      },
    },
    passwordFileContent: `${options.account.password}\n`,
  };
}

/** The PostgreSQL engine's exporter. */
export const POSTGRESQL_EXPORTER: EngineExporter = {
  account: POSTGRESQL_MONITOR_ACCOUNT,
  package: "prometheus-postgres-exporter",
  ensureAccount: ensureMonitorAccount,
  command: postgresqlExporterCommand,
};
