/** The MariaDB engine: mariadb-install-db, my.cnf, ed25519 accounts over TCP, probes through the `mariadb` client. */
import { join } from "node:path";
import { matchVersion } from "../version.ts";
import type { Engine } from "../types.ts";
import { mariadbClientCommand, mariadbConnectionUri } from "./client.ts";
import { PRIVATE_FILE_MODES, PRIVATE_UMASK, mariadbConfPath, mariadbPidPath } from "./config.ts";
import { MARIADB_ACCOUNTS, MARIADB_BACKUP_ACCOUNT, MARIADB_SUPERUSERS, MARIADB_DEFINITION, MARIADB_PACKAGES, MARIADB_RELATED_NAMES, MARIADB_STOP } from "./definition.ts";
import { MARIADB_ARCHIVE_BINLOG } from "./archive-binlog.ts";
import { MARIADB_MARIABACKUP } from "./mariabackup.ts";
import { MARIADB_DUMP_METHOD } from "./mariadb-dump.ts";
import { ensureMariadbAccounts } from "./system-accounts.ts";
import { configureMariadb, initializeMariadb, isMariadbInitialized } from "./initialize.ts";
import { mariadbParametersFor } from "./parameters.ts";
import { MARIADB_PARAMETERS } from "./parameter-schema.ts";
import { probeMariadbReady, probeMariadbRole } from "./probe.ts";
import { createMariadbReplication } from "./replication-capability.ts";
import { detectMariadbVersions } from "./versions.ts";
import { protectMariadbStorage } from "./storage-protection.ts";
import { MARIADB_PASSWORDS } from "./passwords.ts";
import { MARIADB_USERS } from "./users.ts";
import { MARIADB_ACTIONS } from "./actions.ts";
import { reloadMariadbTls } from "./tls-reload.ts";
import { createMariadbAuditParser, mariadbAuditLogFiles } from "./audit-log.ts";

export { parseMariadbVersion } from "./versions.ts";
export { askMariadb, clientOptionFile, runMariadbScript, type MariadbTarget } from "./client.ts";
export { followSql, promoteSql } from "./replication-sql.ts";
export { mariadbConfPath, mariadbPidPath, mariadbSocketPath, renderMariadbConf, validateMariadbParameters } from "./config.ts";
export { bootstrapAccountsSql, sqlString } from "./accounts-sql.ts";

/** A new MariaDB engine module. */
export function createMariadbEngine(): Engine {
  return {
    name: "mariadb",
    relatedNames: MARIADB_RELATED_NAMES,
    definition: MARIADB_DEFINITION,
    systemAccounts: MARIADB_ACCOUNTS,
    backupAccount: MARIADB_BACKUP_ACCOUNT.name,
    ensureAccounts: ensureMariadbAccounts,
    stop: MARIADB_STOP,
    packages: MARIADB_PACKAGES,
    detectVersions: detectMariadbVersions,
    matchVersion,
    parametersFor: mariadbParametersFor,
    parameterSchema: MARIADB_PARAMETERS,
    isInitialized: isMariadbInitialized,
    initialize: initializeMariadb,
    configure: (context, _accounts, host) => configureMariadb(context, host),
    protectStorage: protectMariadbStorage,
    startCommand: (context) => ({ command: join(context.version.binDir, "mariadbd"), args: [`--defaults-file=${mariadbConfPath(context)}`], env: { ...PRIVATE_FILE_MODES }, umask: PRIVATE_UMASK }),
    pidFile: mariadbPidPath,
    probeReady: probeMariadbReady,
    probeRole: probeMariadbRole,
    clientCommand: mariadbClientCommand,
    connectionUri: mariadbConnectionUri,
    backupMethods: [MARIADB_MARIABACKUP, MARIADB_DUMP_METHOD, MARIADB_ARCHIVE_BINLOG],
    replication: createMariadbReplication(),
    passwords: MARIADB_PASSWORDS,
    users: MARIADB_USERS,
    actions: MARIADB_ACTIONS,
    reloadTls: reloadMariadbTls,
    logins: { superusers: MARIADB_SUPERUSERS, logFile: mariadbAuditLogFiles, logParser: createMariadbAuditParser },
  };
}
