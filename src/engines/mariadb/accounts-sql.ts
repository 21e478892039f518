/**
 * The accounts of a new data directory, as SQL for `mariadbd --bootstrap` (stdin, never a file or argv): every account
 * mariadb-install-db made (root by unix socket, the OS user by unix socket, anonymous ones) is dropped, and each system
 * account is created for any host with an ed25519 password. Only `mariadb.sys` (locked, no login; the owner of the sys
 * views) remains of the defaults.
 */
import { InvalidError } from "../../errors/index.ts";
import type { Credentials } from "../types.ts";

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

/** The bootstrap SQL: drop every default account and the test database, create `accounts` (the first with all privileges). */
export function bootstrapAccountsSql(accounts: readonly Credentials[]): string {
  if (accounts.length === 0) {
    throw new InvalidError("MariaDB needs credentials for its system accounts: pass them to initialize", {
      causes: [{ field: "accounts", message: "at least the administrator is required" }],
    });
  }
  const [admin, ...others] = accounts.map((account) => ({ name: checkedName(account), password: account.password }));
  const create = (a: { name: string; password: string }): string => `CREATE USER ${sqlString(a.name)}@'%' IDENTIFIED VIA ed25519 USING PASSWORD(${sqlString(a.password)});`;
  return [
    // --bootstrap runs without the grant tables; loading them makes account statements work.
    "FLUSH PRIVILEGES;",
    "DELETE FROM mysql.global_priv WHERE NOT (User = 'mariadb.sys' AND Host = 'localhost');",
    ...GRANT_TABLES.map((table) => `DELETE FROM mysql.${table};`),
    "FLUSH PRIVILEGES;",
    "DROP DATABASE IF EXISTS test;",
    ...(admin === undefined ? [] : [create(admin), `GRANT ALL PRIVILEGES ON *.* TO ${sqlString(admin.name)}@'%' WITH GRANT OPTION;`]),
    ...others.map(create),
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
  const statements = accounts.map((account, index) => {
    const name = `${sqlString(checkedName(account))}@'%'`;
    const password = `IDENTIFIED VIA ed25519 USING PASSWORD(${sqlString(account.password)})`;
    const grant = index === 0 ? [`GRANT ALL PRIVILEGES ON *.* TO ${name} WITH GRANT OPTION;`] : [];
    return [`CREATE USER IF NOT EXISTS ${name} ${password};`, `ALTER USER ${name} ${password};`, ...grant];
  });
  return ["FLUSH PRIVILEGES;", ...statements.flat(), ""].join("\n");
}
