/** Rows of the api_tokens table. */
import type { DatabaseSync } from "node:sqlite";
import { blob, integer, optionalInteger, text, type Row } from "./auth-database.ts";

/** An API token as stored; its secret exists only as a hash. */
export interface TokenRow {
  id: string;
  username: string;
  name: string;
  secretHash: Uint8Array;
  createdAt: number;
  expiresAt: number;
  lastUsedAt: number | undefined;
  revokedAt: number | undefined;
}

/** Store a new token. */
export function insertToken(db: DatabaseSync, token: TokenRow): void {
  db.prepare("INSERT INTO api_tokens (id, username, name, secret_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)").run(
    token.id,
    token.username,
    token.name,
    token.secretHash,
    token.createdAt,
    token.expiresAt,
  );
}

/** The token with `id`, if any. */
export function findToken(db: DatabaseSync, id: string): TokenRow | undefined {
  const row = db.prepare("SELECT * FROM api_tokens WHERE id = ?").get(id);
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
  db.prepare("UPDATE api_tokens SET last_used_at = ? WHERE id = ?").run(at, id);
}

/** Revoke the token (idempotent: the first revocation time is kept). */
export function markTokenRevoked(db: DatabaseSync, id: string, at: number): void {
  db.prepare("UPDATE api_tokens SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?").run(at, id);
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
  };
}
