/** Opening the store file: permissions, pragmas and schema. */
import { chmodSync, closeSync, mkdirSync, openSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { checkSqliteIntegrity, damagedFileError, isSqliteDamage } from "../../util/index.ts";

// The counter starts at 1, not 0: a list of an empty store then returns "1", and a watch from "1" replays every
// later change, where a watch from "0" would mean "live only" and miss writes made between the list and the watch.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS objects (
  kind TEXT NOT NULL,
  namespace TEXT NOT NULL,
  name TEXT NOT NULL,
  uid TEXT NOT NULL UNIQUE,
  resource_version INTEGER NOT NULL,
  object TEXT NOT NULL,
  PRIMARY KEY (kind, namespace, name)
) STRICT;
CREATE TABLE IF NOT EXISTS owner_references (
  owner_uid TEXT NOT NULL,
  dependent_uid TEXT NOT NULL REFERENCES objects (uid) ON DELETE CASCADE,
  PRIMARY KEY (owner_uid, dependent_uid)
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS owner_references_by_dependent ON owner_references (dependent_uid);
CREATE TABLE IF NOT EXISTS changes (
  resource_version INTEGER PRIMARY KEY,
  type TEXT NOT NULL,
  kind TEXT NOT NULL,
  namespace TEXT NOT NULL,
  name TEXT NOT NULL,
  object TEXT NOT NULL
) STRICT;
INSERT OR IGNORE INTO meta (key, value) VALUES ('resource_version', '1'), ('compacted_through', '0'), ('schema_version', '1');
`;

/**
 * Open (creating if needed) the store file with mode 0600, WAL journaling and synchronous commits. A corrupt or
 * truncated file is found here, before anything is served, and reported as a DamagedFileError.
 */
export function openDatabase(path: string, options: { existing?: boolean } = {}): DatabaseSync {
  if (options.existing === true) requireContent(path);
  createPrivateFile(path);
  const db = new DatabaseSync(path, { enableForeignKeyConstraints: true, timeout: 5000 });
  try {
    db.exec("PRAGMA journal_mode = WAL");
    // FULL: a commit is on disk before it is acknowledged, so nothing a caller saw is lost on a crash.
    db.exec("PRAGMA synchronous = FULL");
    db.exec("PRAGMA foreign_keys = ON");
    checkSqliteIntegrity(db);
    db.exec(SCHEMA);
    return db;
  } catch (error) {
    db.close();
    throw isSqliteDamage(error) ? damagedFileError("the store file", path, error) : error;
  }
}

/** A store the home already had must not be silently recreated empty: a file cut to nothing is damaged, not new. */
function requireContent(path: string): void {
  const size = statSync(path, { throwIfNoEntry: false })?.size;
  if (size === undefined || size === 0) throw damagedFileError("the store file", path, new Error(size === undefined ? "it is missing" : "it is empty"));
}

/** SQLite gives the -wal and -shm files the main file's mode, so creating it 0600 first covers all three. */
function createPrivateFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const fd = openSync(path, "a", 0o600);
  closeSync(fd);
  chmodSync(path, 0o600);
}
