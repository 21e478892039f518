/** The authentication database: its own sqlite file (0600, WAL, synchronous=FULL), apart from the resource store. */
import { chmodSync, closeSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type SQLOutputValue, type StatementSync } from "node:sqlite";
import { InternalError } from "../../errors/index.ts";
import { checkSqliteIntegrity, damagedFileError, isSqliteDamage } from "../../util/index.ts";

// Times are Unix milliseconds. Secrets appear only as hashes, or (TOTP seeds) as keyring ciphertexts.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS users (
  username TEXT PRIMARY KEY,
  groups TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  totp_secret TEXT NOT NULL,
  totp_last_step INTEGER,
  disabled INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  last_login_at INTEGER
) STRICT;
CREATE TABLE IF NOT EXISTS recovery_codes (
  username TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
  code_hash BLOB NOT NULL,
  used_at INTEGER,
  PRIMARY KEY (username, code_hash)
) STRICT;
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
  secret_hash BLOB NOT NULL,
  source TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS sessions_by_user ON sessions (username);
CREATE TABLE IF NOT EXISTS api_tokens (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
  name TEXT NOT NULL,
  secret_hash BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  last_used_at INTEGER,
  revoked_at INTEGER,
  parent_kind TEXT,
  parent_id TEXT
) STRICT;
CREATE INDEX IF NOT EXISTS api_tokens_by_user ON api_tokens (username);
CREATE TABLE IF NOT EXISTS login_failures (
  scope TEXT NOT NULL,
  key TEXT NOT NULL,
  failures INTEGER NOT NULL,
  last_failure_at INTEGER NOT NULL,
  locked_until INTEGER,
  PRIMARY KEY (scope, key)
) STRICT;
`;

const statements = new WeakMap<DatabaseSync, Map<string, StatementSync>>();

/**
 * `sql` prepared once per database and reused: the lookups every request makes (session or token, then user) cost
 * about a third of the request's authentication when compiled anew each time.
 */
export function prepared(db: DatabaseSync, sql: string): StatementSync {
  let cache = statements.get(db);
  if (cache === undefined) statements.set(db, (cache = new Map<string, StatementSync>()));
  let statement = cache.get(sql);
  if (statement === undefined) cache.set(sql, (statement = db.prepare(sql)));
  return statement;
}

/** Open (creating if needed) the authentication database. */
export function openAuthDatabase(path: string): DatabaseSync {
  createPrivateFile(path);
  const db = new DatabaseSync(path, { enableForeignKeyConstraints: true, timeout: 5000 });
  try {
    db.exec("PRAGMA journal_mode = WAL");
    // FULL: a consumed TOTP step or recovery code is on disk before the login succeeds, so a crash cannot re-arm it.
    db.exec("PRAGMA synchronous = FULL");
    checkSqliteIntegrity(db);
    db.exec(SCHEMA);
    migrate(db);
    return db;
  } catch (error) {
    db.close();
    throw isSqliteDamage(error) ? damagedFileError("the authentication database", path, error) : error;
  }
}

/** Bring a database made by an earlier version up to the schema: tokens record the credential that created them. */
function migrate(db: DatabaseSync): void {
  const columns = new Set(db.prepare("SELECT name FROM pragma_table_info('api_tokens')").all().map((row) => row["name"]));
  if (!columns.has("parent_kind")) db.exec("ALTER TABLE api_tokens ADD COLUMN parent_kind TEXT");
  if (!columns.has("parent_id")) db.exec("ALTER TABLE api_tokens ADD COLUMN parent_id TEXT");
  db.exec("CREATE INDEX IF NOT EXISTS api_tokens_by_parent ON api_tokens (parent_id)");
}

/**
 * Run `work` in one IMMEDIATE transaction: it takes the write lock first, so compare-and-set is atomic across
 * processes. Inside an open transaction, `work` simply joins it.
 */
export function inTransaction<T>(db: DatabaseSync, work: () => T): T {
  if (db.isTransaction) return work();
  db.exec("BEGIN IMMEDIATE");
  try {
    const result = work();
    db.exec("COMMIT");
    return result;
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
}

/** A row as node:sqlite returns it. */
export type Row = Record<string, SQLOutputValue>;

/** The text in `column`. */
export function text(row: Row, column: string): string {
  const value = row[column];
  if (typeof value !== "string") throw new InternalError(`the authentication database is damaged: ${column} is not text`);
  return value;
}

/** The integer in `column`, or undefined when it is NULL. */
export function optionalInteger(row: Row, column: string): number | undefined {
  const value = row[column];
  if (value === null || value === undefined) return undefined;
  if (typeof value !== "number") throw new InternalError(`the authentication database is damaged: ${column} is not an integer`);
  return value;
}

/** The integer in `column`. */
export function integer(row: Row, column: string): number {
  const value = optionalInteger(row, column);
  if (value === undefined) throw new InternalError(`the authentication database is damaged: ${column} is NULL`);
  return value;
}

/** The bytes in `column`. */
export function blob(row: Row, column: string): Uint8Array {
  const value = row[column];
  if (!(value instanceof Uint8Array)) throw new InternalError(`the authentication database is damaged: ${column} is not a blob`);
  return value;
}

/** SQLite gives the -wal and -shm files the main file's mode, so creating it 0600 first covers all three. */
function createPrivateFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const fd = openSync(path, "a", 0o600);
  closeSync(fd);
  chmodSync(path, 0o600);
}
