/** Rows of the users and recovery_codes tables. */
import { timingSafeEqual } from "node:crypto";
import type { DatabaseSync } from "node:sqlite";
import { blob, integer, inTransaction, optionalInteger, prepared, text, type Row } from "./auth-database.ts";
import type { UserRow } from "./auth-backend.ts";

/** The user named `username`, if any. */
export function findUser(db: DatabaseSync, username: string): UserRow | undefined {
  const row = prepared(db, "SELECT * FROM users WHERE username = ?").get(username);
  return row === undefined ? undefined : toUser(row);
}

/** Every user, by name. */
export function allUsers(db: DatabaseSync): UserRow[] {
  return db.prepare("SELECT * FROM users ORDER BY username").all().map(toUser);
}

/** Whether any user exists. */
export function anyUser(db: DatabaseSync): boolean {
  return db.prepare("SELECT 1 AS found FROM users LIMIT 1").get() !== undefined;
}

/** Insert a user with their recovery code hashes; false when the name is taken. */
export function insertUser(db: DatabaseSync, user: UserRow, recoveryCodeHashes: Buffer[]): boolean {
  return inTransaction(db, () => {
    const inserted = db
      .prepare("INSERT INTO users (username, groups, password_hash, totp_secret, disabled, created_at) VALUES (?, ?, ?, ?, 0, ?) ON CONFLICT DO NOTHING")
      .run(user.username, JSON.stringify(user.groups), user.passwordHash, user.totpSecret, user.createdAt);
    if (inserted.changes === 0) return false;
    insertRecoveryCodes(db, user.username, recoveryCodeHashes);
    return true;
  });
}

/** Replace the TOTP seed and recovery codes; the replay marker starts over with the new seed. */
export function replaceMfa(db: DatabaseSync, username: string, totpSecret: string, recoveryCodeHashes: Buffer[]): void {
  inTransaction(db, () => {
    db.prepare("UPDATE users SET totp_secret = ?, totp_last_step = NULL WHERE username = ?").run(totpSecret, username);
    db.prepare("DELETE FROM recovery_codes WHERE username = ?").run(username);
    insertRecoveryCodes(db, username, recoveryCodeHashes);
  });
}

/** Store a new password hash. */
export function updatePasswordHash(db: DatabaseSync, username: string, passwordHash: string): void {
  db.prepare("UPDATE users SET password_hash = ? WHERE username = ?").run(passwordHash, username);
}

/** Set or clear the disabled flag. */
export function updateDisabled(db: DatabaseSync, username: string, disabled: boolean): void {
  db.prepare("UPDATE users SET disabled = ? WHERE username = ?").run(disabled ? 1 : 0, username);
}

/** Replace the password hash only if it is still `expected`. */
export function replacePasswordHashIf(db: DatabaseSync, username: string, expected: string, next: string): void {
  db.prepare("UPDATE users SET password_hash = ? WHERE username = ? AND password_hash = ?").run(next, username, expected);
}

/** Delete the user's row; recovery codes, sessions and tokens go with it (ON DELETE CASCADE). */
export function deleteUserRow(db: DatabaseSync, username: string): void {
  db.prepare("DELETE FROM users WHERE username = ?").run(username);
}

/** Record a successful login. */
export function updateLastLogin(db: DatabaseSync, username: string, at: number): void {
  db.prepare("UPDATE users SET last_login_at = ? WHERE username = ?").run(at, username);
}

/**
 * Accept TOTP step `step` for `username` only if it is later than the last accepted one: a single compare-and-set
 * UPDATE, so of two concurrent logins with the same code exactly one changes the row.
 */
export function consumeTotpStep(db: DatabaseSync, username: string, step: number): boolean {
  const result = db
    .prepare("UPDATE users SET totp_last_step = ? WHERE username = ? AND (totp_last_step IS NULL OR totp_last_step < ?)")
    .run(step, username, step);
  return result.changes === 1;
}

/** Mark the unused recovery code with hash `codeHash` as used; false when it is unknown or already used. */
export function consumeRecoveryCode(db: DatabaseSync, username: string, codeHash: Buffer, at: number): boolean {
  return inTransaction(db, () => {
    const unused = db.prepare("SELECT code_hash FROM recovery_codes WHERE username = ? AND used_at IS NULL").all(username);
    // Compare against every unused code in constant time instead of letting an index lookup decide.
    const match = unused.map((row) => blob(row, "code_hash")).find((stored) => stored.length === codeHash.length && timingSafeEqual(stored, codeHash));
    if (match === undefined) return false;
    return db.prepare("UPDATE recovery_codes SET used_at = ? WHERE username = ? AND code_hash = ? AND used_at IS NULL").run(at, username, match).changes === 1;
  });
}

/** How many recovery codes `username` has left. */
export function unusedRecoveryCodes(db: DatabaseSync, username: string): number {
  const row = db.prepare("SELECT count(*) AS left FROM recovery_codes WHERE username = ? AND used_at IS NULL").get(username);
  return row === undefined ? 0 : integer(row, "left");
}

function insertRecoveryCodes(db: DatabaseSync, username: string, hashes: Buffer[]): void {
  const insert = db.prepare("INSERT INTO recovery_codes (username, code_hash) VALUES (?, ?)");
  for (const hash of hashes) insert.run(username, hash);
}

function toUser(row: Row): UserRow {
  return {
    username: text(row, "username"),
    groups: parseGroups(text(row, "groups")),
    passwordHash: text(row, "password_hash"),
    totpSecret: text(row, "totp_secret"),
    totpLastStep: optionalInteger(row, "totp_last_step"),
    disabled: integer(row, "disabled") !== 0,
    createdAt: integer(row, "created_at"),
    lastLoginAt: optionalInteger(row, "last_login_at"),
  };
}

function parseGroups(json: string): string[] {
  const value: unknown = JSON.parse(json);
  return Array.isArray(value) ? value.filter((group): group is string => typeof group === "string") : [];
}
