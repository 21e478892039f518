/**
 * The accounts of a new data directory, as SQL for `mariadbd --bootstrap` (stdin, never a file or argv): every account
 * mariadb-install-db made (root by unix socket, the OS user by unix socket, anonymous ones) is dropped, and each system
 * account is created for any host with an ed25519 password. Only `mariadb.sys` (locked, no login; the owner of the sys
 * views) remains of the defaults.
 */
import { InvalidError } from "../../errors/index.ts";
import type { Credentials } from "../types.ts";
import { MARIADB_BACKUP_ACCOUNT } from "./definition.ts";

/**
 * The backup account's rights, on `*.*`. mariabackup (MariaDB 10.11): RELOAD (BACKUP STAGE, FLUSH), PROCESS (InnoDB
 * status), LOCK TABLES, BINLOG MONITOR (the binlog position) and SLAVE MONITOR (a replica's position; SHOW GRANTS
 * calls REPLICA MONITOR so). mariadb-dump: SELECT, SHOW VIEW, TRIGGER, EVENT, LOCK TABLES (routines are read through
 * SELECT on mysql.proc). The binlog archiver: RELOAD (FLUSH BINARY LOGS). Nothing that writes data or changes accounts.
 */
export const BACKUP_PRIVILEGES = "SELECT, SHOW VIEW, TRIGGER, EVENT, LOCK TABLES, RELOAD, PROCESS, BINLOG MONITOR, SLAVE MONITOR";

/** A string literal for MariaDB's default sql_mode (backslash escapes on). */
export function sqlString(value: string): string {
  const special: Record<string, string> = { "\0": "\\0", "\n": "\\n", "\r": "\\r", "\\": "\\\\", "'": "\\'", '"': '\\"', [String.fromCharCode(26)]: "\\Z" };
  // Only ASCII characters are replaced; every other code unit passes through unchanged.
  return `'${value.replace(/[\s\S]/gu, (c) => special[c] ?? c)}'`;
}

const ACCOUNT_NAME = /^[A-Za-z0-9_.-]{1,80}$/;

function checkedName(account: Credentials): string {
  if (!ACCOUNT_NAME.test(account.username)) {
    throw new InvalidError(`MariaDB account name ${account.username} is not allowed: use 1-80 letters, digits, '_', '.', '-'`, {
      causes: [{ field: "accounts.username", message: "must be 1-80 letters, digits, '_', '.' or '-'" }],
    });
  }
  if (account.password === "") {
    throw new InvalidError(`MariaDB account ${account.username} needs a password: a passwordless account is never created`, {
      causes: [{ field: "accounts.password", message: "must not be empty" }],
    });
  }
  return account.username;
}

/** Tables of grants mariadb-install-db fills; emptied with the accounts so no grant outlives its account. */
const GRANT_TABLES = ["proxies_priv", "db", "tables_priv", "columns_priv", "procs_priv", "roles_mapping"];

/** The GRANT statements of system account `name` (`index` in the engine's list: the first is the administrator). */
export function systemAccountGrants(name: string, index: number): string[] {
  const user = `${sqlString(name)}@'%'`;
  if (index === 0) return [`GRANT ALL PRIVILEGES ON *.* TO ${user} WITH GRANT OPTION;`];
  return name === MARIADB_BACKUP_ACCOUNT.name ? [`GRANT ${BACKUP_PRIVILEGES} ON *.* TO ${user};`] : [];
}

/** The bootstrap SQL: drop every default account and the test database, create `accounts` (the first with all privileges). */
export function bootstrapAccountsSql(accounts: readonly Credentials[]): string {
  if (accounts.length === 0) {
    throw new InvalidError("MariaDB needs credentials for its system accounts: pass them to initialize", {
      causes: [{ field: "accounts", message: "at least the administrator is required" }],
    });
  }
  const create = (account: Credentials, index: number): string[] => {
    const name = checkedName(account);
    return [`CREATE USER ${sqlString(name)}@'%' IDENTIFIED VIA ed25519 USING PASSWORD(${sqlString(account.password)});`, ...systemAccountGrants(name, index)];
  };
  return [
    // --bootstrap runs without the grant tables; loading them makes account statements work.
    "FLUSH PRIVILEGES;",
    "DELETE FROM mysql.global_priv WHERE NOT (User = 'mariadb.sys' AND Host = 'localhost');",
    ...GRANT_TABLES.map((table) => `DELETE FROM mysql.${table};`),
    "FLUSH PRIVILEGES;",
    "DROP DATABASE IF EXISTS test;",
    ...accounts.flatMap(create),
    "",
  ].join("\n");
}

/**
 * The SQL for `mariadbd --bootstrap` that gives a restored data directory the new cluster's passwords: each system
 * account is created when missing and its password set (ed25519); the first gets all privileges again. Every other
 * account of the source (the applications' own) is kept as it was.
 */
export function resetAccountsSql(accounts: readonly Credentials[]): string {
  if (accounts.length === 0) {
    throw new InvalidError("a restored MariaDB needs credentials for its system accounts", { causes: [{ field: "accounts", message: "at least the administrator is required" }] });
  }
  return ["FLUSH PRIVILEGES;", ...accounts.flatMap(createOrReset), ""].join("\n");
}

/** Create `account` when missing, set its password (ed25519) and give it its rights (`index` as for systemAccountGrants). */
function createOrReset(account: Credentials, index: number): string[] {
  const name = `${sqlString(checkedName(account))}@'%'`;
  const password = `IDENTIFIED VIA ed25519 USING PASSWORD(${sqlString(account.password)})`;
  return [`CREATE USER IF NOT EXISTS ${name} ${password};`, `ALTER USER ${name} ${password};`, ...systemAccountGrants(account.username, index)];
}

/**
 * The SQL that gives a running server the system accounts after the administrator (`accounts[0]`, who runs it, is left
 * alone): created when missing (a data directory made before the account existed), password and rights set again.
 * Idempotent. `sql_log_bin=0`: statements holding a password stay out of the binlog (and so out of the archived binlog);
 * each instance is given the accounts itself. For the client's stdin only, never argv.
 */
export function ensureAccountsSql(accounts: readonly Credentials[]): string {
  const others = accounts.slice(1).flatMap((account, index) => createOrReset(account, index + 1));
  return ["SET SESSION sql_log_bin = 0;", ...others, ""].join("\n");
}
