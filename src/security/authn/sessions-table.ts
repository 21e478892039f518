/** Rows of the sessions table. */
import type { DatabaseSync } from "node:sqlite";
import { blob, integer, prepared, text, type Row } from "./auth-database.ts";
import type { SessionRow } from "./auth-backend.ts";

/** Store a new session. */
export function insertSession(db: DatabaseSync, session: SessionRow): void {
  db.prepare("INSERT INTO sessions (id, username, secret_hash, source, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?)").run(
    session.id,
    session.username,
    session.secretHash,
    session.source,
    session.createdAt,
    session.lastSeenAt,
  );
}

/** The session with `id`, if any. */
export function findSession(db: DatabaseSync, id: string): SessionRow | undefined {
  const row = prepared(db, "SELECT * FROM sessions WHERE id = ?").get(id);
  return row === undefined ? undefined : toSession(row);
}

/** Record activity on a session, which restarts its idle timer. */
export function touchSession(db: DatabaseSync, id: string, at: number): void {
  prepared(db, "UPDATE sessions SET last_seen_at = ? WHERE id = ?").run(at, id);
}

/** End one session. */
export function deleteSession(db: DatabaseSync, id: string): void {
  db.prepare("DELETE FROM sessions WHERE id = ?").run(id);
}

/** Ids of the sessions of `username`. */
export function sessionIdsOf(db: DatabaseSync, username: string): string[] {
  return db.prepare("SELECT id FROM sessions WHERE username = ?").all(username).map((row) => text(row, "id"));
}

/** Drop sessions past their idle or absolute timeout, so the table does not grow with abandoned logins. */
export function deleteExpiredSessions(db: DatabaseSync, now: number, idleMillis: number, absoluteMillis: number): void {
  db.prepare("DELETE FROM sessions WHERE last_seen_at + ? <= ? OR created_at + ? <= ?").run(idleMillis, now, absoluteMillis, now);
}

function toSession(row: Row): SessionRow {
  return {
    id: text(row, "id"),
    username: text(row, "username"),
    secretHash: blob(row, "secret_hash"),
    source: text(row, "source"),
    createdAt: integer(row, "created_at"),
    lastSeenAt: integer(row, "last_seen_at"),
  };
}
