/** What a MariaDB cluster is made of: topologies, system accounts, packages. */
import type { ClusterDefinition, StopBehaviour, SystemAccount } from "../types.ts";

/**
 * The built-in ClusterDefinition `mariadb`, named as KubeBlocks' MariaDB addon names it (component `mariadb`):
 * `standalone` (the default, one server) and `replication` (a primary with GTID replicas and automatic failover, ADR 0047).
 */
export const MARIADB_DEFINITION: ClusterDefinition = {
  name: "mariadb",
  topologies: [
    { name: "standalone", default: true, components: [{ name: "mariadb", minReplicas: 1, maxReplicas: 1 }] },
    { name: "replication", default: false, components: [{ name: "mariadb", minReplicas: 1, maxReplicas: 5, defaultReplicas: 2, replicated: true }] },
  ],
};

/** The account replicas log in to their primary with: REPLICATION SLAVE and REPLICATION CLIENT only, over verified TLS. */
export const MARIADB_REPLICATION_ACCOUNT: SystemAccount = { name: "kbreplicator", purpose: "replication (REPLICATION SLAVE, REPLICATION CLIENT only; over verified TLS)" };

/**
 * The least-privilege account backups log in as (KubeBlocks' name for it): what mariabackup, mariadb-dump and the
 * binlog archiver need, nothing that writes data (BACKUP_PRIVILEGES in accounts-sql.ts).
 */
export const MARIADB_BACKUP_ACCOUNT: SystemAccount = { name: "kbdataprotection", purpose: "backups (mariabackup, mariadb-dump, archive-binlog): read and lock, no writes" };

/**
 * `root@'%'` (ed25519); first, so it is the administrator used for probes and `cluster connect`; then the backup
 * account. Applications log in with accounts of their own.
 */
export const MARIADB_ACCOUNTS: readonly SystemAccount[] = [{ name: "root", purpose: "administrator (ed25519 password, TCP only): all privileges, probes" }, MARIADB_BACKUP_ACCOUNT];

/** The accounts whose logins the node agent watches (ADR 0036): the administrator, the one account with every privilege. */
export const MARIADB_SUPERUSERS: readonly string[] = ["root"];

/** Debian packages providing the server, the client and mariabackup. */
export const MARIADB_PACKAGES: readonly string[] = ["mariadb-server", "mariadb-client", "mariadb-backup"];

/** Servers of MariaDB's family that it is not: a manifest naming one is refused, MariaDB never runs under its name. */
export const MARIADB_RELATED_NAMES: readonly string[] = ["mysql"];

/** SIGTERM makes mariadbd shut down cleanly (InnoDB flushes its buffer pool's dirty pages first, which can take a while). */
export const MARIADB_STOP: StopBehaviour = { signal: "SIGTERM", timeoutMs: 120_000 };
