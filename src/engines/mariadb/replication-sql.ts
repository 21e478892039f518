/**
 * The SQL of MariaDB replication, built without I/O: the replication account, pointing a replica at its primary over
 * verified TLS with GTIDs, promotion and semi-synchronous commits. Statements holding a password go to the client's
 * stdin only (runMariadbScript), never argv.
 */
import type { Credentials, ReplicationDurability, UpstreamAddress } from "../types.ts";
import { sqlString } from "./accounts-sql.ts";

/** Privileges of the replication account: reading the binlog and asking where replication stands, nothing else. */
export const REPLICATION_PRIVILEGES = "REPLICATION SLAVE, REPLICATION CLIENT";

/**
 * Create (or reset the password of) the replication account. `sql_log_bin=0`: the statement, which holds the password,
 * is not written to the binlog; replicas get the account with their copy of the `mysql` schema.
 *
 * mysql_native_password, not ed25519: a replica's IO thread logs in with the server's built-in client, which has no
 * ed25519 client plugin (Debian ships client_ed25519.so with libmariadb3 for the command-line clients, not in the
 * server's plugin directory). The link runs over verified TLS only, and the challenge-response never sends the password.
 */
export function replicationAccountSql(account: Credentials): string {
  const user = `${sqlString(account.username)}@'%'`;
  const password = `IDENTIFIED VIA mysql_native_password USING PASSWORD(${sqlString(account.password)})`;
  return [
    "SET SESSION sql_log_bin = 0;",
    `CREATE USER IF NOT EXISTS ${user} ${password};`,
    `ALTER USER ${user} ${password};`,
    `GRANT ${REPLICATION_PRIVILEGES} ON *.* TO ${user};`,
    "",
  ].join("\n");
}

/** Where and how a replica reaches its primary. */
export interface PrimaryConnection {
  upstream: UpstreamAddress;
  account: Credentials;
  /** The CA the primary's certificate must be signed by (its name checked against `upstream.host`); absent: no TLS (the engine alone in tests). */
  caFile: string | undefined;
}

/** `CHANGE MASTER TO …` for `connection`: GTID from the replica's own slave position, TLS verified, retried every second. */
export function changeMasterSql(connection: PrimaryConnection): string {
  const { upstream, account, caFile } = connection;
  const tls = caFile === undefined ? ["MASTER_SSL = 0"] : ["MASTER_SSL = 1", `MASTER_SSL_CA = ${sqlString(caFile)}`, "MASTER_SSL_VERIFY_SERVER_CERT = 1"];
  const options = [
    `MASTER_HOST = ${sqlString(upstream.host)}`, `MASTER_PORT = ${upstream.port}`,
    `MASTER_USER = ${sqlString(account.username)}`, `MASTER_PASSWORD = ${sqlString(account.password)}`,
    "MASTER_USE_GTID = slave_pos", "MASTER_CONNECT_RETRY = 1", "MASTER_HEARTBEAT_PERIOD = 1", ...tls,
  ];
  return `CHANGE MASTER TO ${options.join(", ")};`;
}

/** Repoint a running replica: stop its threads, point it at `connection`, start them again. */
export function followSql(connection: PrimaryConnection): string {
  return ["STOP SLAVE;", changeMasterSql(connection), "START SLAVE;", ""].join("\n");
}

/**
 * Turn a replica into a primary once it applied what it received: no replication threads or settings left, waiting for
 * a replica's acknowledgement when `durability` asks (before it accepts a write), writable. (`@@gtid_slave_pos` is kept:
 * it is where this server's history continues from.)
 */
export function promoteSql(durability: ReplicationDurability): string {
  const semiSync = durability.mode === "synchronous" ? ["SET GLOBAL rpl_semi_sync_master_enabled = ON;"] : [];
  return ["STOP SLAVE;", "RESET SLAVE ALL;", ...semiSync, "SET GLOBAL read_only = 0;"].join(" ");
}

/**
 * How long a semi-synchronous primary waits for a replica's acknowledgement before it would fall back to asynchronous
 * commits: ten years, i.e. never. A commit that no replica acknowledged is never acknowledged to its client, so a
 * failover cannot lose it; with no replica connected, writes wait (as PostgreSQL's synchronous commit does).
 */
export const SEMI_SYNC_TIMEOUT_MS = 10 * 365 * 24 * 3600 * 1000;

/**
 * Server options (my.cnf lines and SET GLOBAL names) for `durability` on an instance in `role`: every member
 * acknowledges as a replica; only the primary waits. (A replica with the primary's side on would make its own SQL thread
 * wait for acknowledgements from replicas it does not have: log-slave-updates commits go through the same wait.)
 */
export function semiSyncOptions(durability: ReplicationDurability, role: "primary" | "secondary"): Record<string, string> {
  const on = durability.mode === "synchronous";
  return {
    rpl_semi_sync_master_enabled: on && role === "primary" ? "ON" : "OFF",
    rpl_semi_sync_slave_enabled: on ? "ON" : "OFF",
    rpl_semi_sync_master_wait_point: "AFTER_SYNC",
    rpl_semi_sync_master_timeout: String(SEMI_SYNC_TIMEOUT_MS),
    rpl_semi_sync_master_wait_no_slave: "ON",
  };
}

/** `SET GLOBAL` statements applying `options` to a running server. */
export function setGlobalSql(options: Record<string, string>): string {
  return Object.entries(options).map(([name, value]) => `SET GLOBAL ${name} = ${value}`).join("; ") + ";";
}
