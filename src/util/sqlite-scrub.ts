/** Removing deleted and superseded data from a WAL-mode SQLite database's files. */
import type { DatabaseSync } from "node:sqlite";
import { UnavailableError } from "../errors/index.ts";

/**
 * Rebuild the database so no free page or log frame still holds deleted or superseded rows.
 * VACUUM copies only live rows into a fresh image; the truncating checkpoint writes that image over the main file
 * and empties the write-ahead log, whose older frames would otherwise keep earlier versions of every page.
 * `name` names the database in the error raised when another connection keeps the log from being emptied.
 */
export function scrubDatabase(db: DatabaseSync, name: string): void {
  db.exec("VACUUM");
  const result = db.prepare("PRAGMA wal_checkpoint(TRUNCATE)").get();
  if (result !== undefined && Number(result["busy"]) !== 0) {
    throw new UnavailableError(
      `another process has the ${name} open, so its write-ahead log still holds old data; close other programs using it (e.g. sqlite3 shells, backups in progress) and run the operation again`,
    );
  }
}
