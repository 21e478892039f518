/** Creating and configuring a MariaDB data directory: mariadb-install-db, then the accounts through --bootstrap. */
import { dirname, join } from "node:path";
import { UnavailableError, errorMessage } from "../../errors/index.ts";
import { findExecutable } from "../host-binaries.ts";
import { exists, markerContent, markerPath } from "../marker.ts";
import type { Credentials, HostAccess, InstanceContext, InstanceLayout } from "../types.ts";
import { bootstrapAccountsSql } from "./accounts-sql.ts";
import { PRIVATE_FILE_MODES, mariadbConfPath, mariadbFilesDirectory, renderMariadbConf } from "./config.ts";
import { mariadbAuditLogPath } from "./audit-log.ts";

const INSTALL_TIMEOUT_MS = 180_000;

/** Has mariadb-install-db made the system tables, and did Holdfast see the accounts set (the marker)? */
export async function isMariadbInitialized(layout: InstanceLayout): Promise<boolean> {
  const [tables, marker] = await Promise.all([exists(join(layout.dataDirectory, "mysql")), exists(markerPath(layout.dataDirectory))]);
  return tables && marker;
}

/**
 * Write my.cnf (0600), with the lines of its replication role when it has one, the secure_file_priv directory into
 * the run directory, and the audit log's directory.
 */
export async function configureMariadb(context: InstanceContext, host: HostAccess, replication: readonly string[] = []): Promise<void> {
  await host.mkdir(context.runDirectory);
  await host.mkdir(mariadbFilesDirectory(context));
  await host.mkdir(dirname(mariadbAuditLogPath(context)));
  await host.writeFile(mariadbConfPath(context), renderMariadbConf(context, replication), 0o600);
}

/** mariadb-install-db's arguments: our option file only, no test database, root by password (replaced right after). */
function installArgs(context: InstanceContext): string[] {
  return [
    `--defaults-file=${mariadbConfPath(context)}`, `--basedir=${dirname(context.version.binDir)}`, `--datadir=${context.dataDirectory}`,
    "--skip-test-db", "--auth-root-authentication-method=normal", "--skip-name-resolve",
  ];
}

/** Run a step of the initialisation, turning its failure into one that says what failed and that it will be redone. */
async function step<T>(context: InstanceContext, what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw new UnavailableError(`${what} failed for ${context.instanceName}: ${errorMessage(error)}; fix the cause and the instance will be initialised again`, { cause: error });
  }
}

/** mariadb-install-db, the accounts (stdin of `mariadbd --bootstrap`), then the marker. */
export async function initializeMariadb(context: InstanceContext, accounts: readonly Credentials[], host: HostAccess): Promise<void> {
  await createDataDirectory(context, accounts, host);
  await host.writeFile(markerPath(context.dataDirectory), markerContent(), 0o600);
}

/** mariadb-install-db and the accounts, without the marker: a clone loads data into it before it counts as initialised. */
export async function createDataDirectory(context: InstanceContext, accounts: readonly Credentials[], host: HostAccess): Promise<void> {
  const sql = bootstrapAccountsSql(accounts);
  await host.mkdir(context.dataDirectory);
  await configureMariadb(context, host);
  const installer = (await findExecutable("mariadb-install-db")) ?? "/usr/bin/mariadb-install-db";
  await step(context, "mariadb-install-db", () => host.run({ command: installer, args: installArgs(context), env: { ...PRIVATE_FILE_MODES }, umask: 0o077 }, { cwd: context.runDirectory, timeoutMs: INSTALL_TIMEOUT_MS }));
  const server = { command: join(context.version.binDir, "mariadbd"), args: [`--defaults-file=${mariadbConfPath(context)}`, "--bootstrap"], env: { ...PRIVATE_FILE_MODES }, umask: 0o077 };
  await step(context, "setting the accounts (mariadbd --bootstrap)", () => host.run(server, { stdin: sql, cwd: context.runDirectory, timeoutMs: INSTALL_TIMEOUT_MS }));
}
