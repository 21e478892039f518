/** Telling a damaged SQLite file (corrupt, truncated, not a database) apart from other failures, and saying what to do. */
import type { DatabaseSync } from "node:sqlite";
import { DamagedDataError } from "../errors/index.ts";

/** SQLite's primary result codes for a damaged file: SQLITE_CORRUPT and SQLITE_NOTADB. */
const DAMAGE_CODES = new Set([11, 26]);

/** Did SQLite fail because the file is damaged? */
export function isSqliteDamage(error: unknown): boolean {
  if (!(error instanceof Error) || !("errcode" in error) || typeof error.errcode !== "number") return false;
  // Extended result codes keep the primary code in the low byte.
  return DAMAGE_CODES.has(error.errcode & 0xff);
}

/** Throw when SQLite's quick check finds damage in the open file (it reads every page, not every index entry). */
export function checkSqliteIntegrity(db: DatabaseSync): void {
  const rows = db.prepare("PRAGMA quick_check").all();
  const problems = rows.map((row) => String(Object.values(row)[0])).filter((line) => line !== "ok");
  if (problems.length > 0) throw Object.assign(new Error(problems.slice(0, 3).join("; ")), { errcode: 11 });
}

/**
 * The error for a damaged file of the home: what is wrong and what the user can do, no stack trace. `what` names the
 * file for a person ("the store file").
 */
export function damagedFileError(what: string, path: string, cause: unknown): DamagedDataError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new DamagedDataError(
    `${what} ${path} is damaged (${detail}); the server cannot start with it. Stop every Holdfast process of this home, ` +
      `then restore it from a copy or backup of the home taken while the server was stopped (together with its -wal file, ` +
      `if the copy has one; see "A damaged store file" in docs/operations.md)`,
    { cause },
  );
}
