/** Rows of the api_tokens table. */
import type { DatabaseSync } from "node:sqlite";
import { blob, integer, optionalInteger, prepared, text, type Row } from "./auth-database.ts";
import type { TokenParent, TokenRow } from "./auth-backend.ts";

/** Store a new token. */
export function insertToken(db: DatabaseSync, token: TokenRow): void {
  db.prepare("INSERT INTO api_tokens (id, username, name, secret_hash, created_at, expires_at, parent_kind, parent_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)").run(
    token.id,
    token.username,
    token.name,
    token.secretHash,
    token.createdAt,
    token.expiresAt,
    token.parent?.kind ?? null,
    token.parent?.id ?? null,
  );
}

/** The token with `id`, if any. */
export function findToken(db: DatabaseSync, id: string): TokenRow | undefined {
  const row = prepared(db, "SELECT * FROM api_tokens WHERE id = ?").get(id);
  return row === undefined ? undefined : toToken(row);
}

/** Tokens of `username`, or of everyone, oldest first. */
export function listTokenRows(db: DatabaseSync, username: string | undefined): TokenRow[] {
  const rows =
    username === undefined
      ? db.prepare("SELECT * FROM api_tokens ORDER BY created_at, id").all()
      : db.prepare("SELECT * FROM api_tokens WHERE username = ? ORDER BY created_at, id").all(username);
  return rows.map(toToken);
}

/** Record a use of the token. */
export function touchToken(db: DatabaseSync, id: string, at: number): void {
  prepared(db, "UPDATE api_tokens SET last_used_at = ? WHERE id = ?").run(at, id);
}

/** Revoke the token (idempotent: the first revocation time is kept). */
export function markTokenRevoked(db: DatabaseSync, id: string, at: number): void {
  db.prepare("UPDATE api_tokens SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?").run(at, id);
}

/**
 * Revoke every token created with `parent`, and the tokens those created, to any depth. A token cannot name its own
 * descendant as parent (a parent exists before its child), so the walk ends.
 */
export function revokeDescendants(db: DatabaseSync, parent: TokenParent, at: number): void {
  const children = db.prepare("SELECT id FROM api_tokens WHERE parent_kind = ? AND parent_id = ?");
  const pending: TokenParent[] = [parent];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    for (const row of children.all(next.kind, next.id)) {
      const id = text(row, "id");
      markTokenRevoked(db, id, at);
      pending.push({ kind: "token", id });
    }
  }
}

function toToken(row: Row): TokenRow {
  return {
    id: text(row, "id"),
    username: text(row, "username"),
    name: text(row, "name"),
    secretHash: blob(row, "secret_hash"),
    createdAt: integer(row, "created_at"),
    expiresAt: integer(row, "expires_at"),
    lastUsedAt: optionalInteger(row, "last_used_at"),
    revokedAt: optionalInteger(row, "revoked_at"),
    parent: parentOf(row),
  };
}

function parentOf(row: Row): TokenParent | undefined {
  const kind = row["parent_kind"];
  const id = row["parent_id"];
  if ((kind !== "session" && kind !== "token") || typeof id !== "string") return undefined;
  return { kind, id };
}
