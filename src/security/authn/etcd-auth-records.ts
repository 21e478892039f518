/**
 * How authentication state is laid out in etcd, under `/holdfast/auth/`: one JSON value per user (with its recovery
 * code hashes and TOTP replay marker, so each is changed by one compare-and-set), per session, per API token and per
 * failure counter. Hashes are base64; the TOTP seed is the keyring ciphertext it is in sqlite. Values are parsed with
 * zod when read: etcd is shared, and a damaged value must be an error, not a wrong answer.
 */
import { z } from "zod";
import { DamagedDataError } from "../../errors/index.ts";
import type { CounterKey, SessionRow, TokenRow, UserRow } from "./auth-backend.ts";
import type { FailureCounter } from "./throttle.ts";

/** Where the authentication state of a Holdfast control plane lives in etcd. */
export const AUTH_PREFIX = "/holdfast/auth/";
export const USERS_PREFIX = `${AUTH_PREFIX}users/`;
export const SESSIONS_PREFIX = `${AUTH_PREFIX}sessions/`;
export const TOKENS_PREFIX = `${AUTH_PREFIX}tokens/`;
export const FAILURES_PREFIX = `${AUTH_PREFIX}login-failures/`;

const millis = z.number().int().nonnegative();
const hash = z.base64();

const recoveryCodeSchema = z.object({ hash, usedAt: millis.optional() });

const userSchema = z.object({
  username: z.string(),
  groups: z.array(z.string()),
  passwordHash: z.string(),
  totpSecret: z.string(),
  totpLastStep: z.number().int().optional(),
  disabled: z.boolean(),
  createdAt: millis,
  lastLoginAt: millis.optional(),
  recoveryCodes: z.array(recoveryCodeSchema),
});

const sessionSchema = z.object({ id: z.string(), username: z.string(), secretHash: hash, source: z.string(), createdAt: millis, lastSeenAt: millis });

const tokenSchema = z.object({
  id: z.string(),
  username: z.string(),
  name: z.string(),
  secretHash: hash,
  createdAt: millis,
  expiresAt: millis,
  lastUsedAt: millis.optional(),
  revokedAt: millis.optional(),
  parent: z.object({ kind: z.enum(["session", "token"]), id: z.string() }).optional(),
});

const counterSchema = z.object({ failures: z.number().int(), lastFailureAt: millis, lockedUntil: millis.optional() });

/** A user record as kept in etcd: the row, and its recovery codes. */
export type UserRecord = z.infer<typeof userSchema>;

export const userKey = (username: string): string => `${USERS_PREFIX}${encodeURIComponent(username)}`;
export const sessionKey = (id: string): string => `${SESSIONS_PREFIX}${encodeURIComponent(id)}`;
export const tokenKey = (id: string): string => `${TOKENS_PREFIX}${encodeURIComponent(id)}`;
export const counterKey = (at: CounterKey): string => `${FAILURES_PREFIX}${at.scope}/${encodeURIComponent(at.key)}`;

/** The stored text of a user record. */
export function encodeUser(user: UserRecord): string {
  return JSON.stringify(user);
}

/** A new user record from its row and recovery code hashes. */
export function newUserRecord(user: UserRow, recoveryCodeHashes: readonly Buffer[]): UserRecord {
  const { totpLastStep: _new, lastLoginAt: _never, ...rest } = user;
  return { ...rest, recoveryCodes: recoveryCodeHashes.map((code) => ({ hash: code.toString("base64") })) };
}

export function decodeUser(text: string, key: string): UserRecord {
  return parse(userSchema, text, key);
}

/** The row a record stands for. */
export function userRowOf(record: UserRecord): UserRow {
  return { ...omitCodes(record), totpLastStep: record.totpLastStep, lastLoginAt: record.lastLoginAt };
}

export function encodeSession(session: SessionRow): string {
  return JSON.stringify({ ...session, secretHash: Buffer.from(session.secretHash).toString("base64") });
}

export function decodeSession(text: string, key: string): SessionRow {
  const parsed = parse(sessionSchema, text, key);
  return { ...parsed, secretHash: Buffer.from(parsed.secretHash, "base64") };
}

export function encodeToken(token: TokenRow): string {
  return JSON.stringify({ ...token, secretHash: Buffer.from(token.secretHash).toString("base64") });
}

export function decodeToken(text: string, key: string): TokenRow {
  const parsed = parse(tokenSchema, text, key);
  return { ...parsed, secretHash: Buffer.from(parsed.secretHash, "base64"), lastUsedAt: parsed.lastUsedAt, revokedAt: parsed.revokedAt, parent: parsed.parent };
}

export function encodeCounter(counter: FailureCounter): string {
  return JSON.stringify(counter);
}

export function decodeCounter(text: string, key: string): FailureCounter {
  const { lockedUntil, ...rest } = parse(counterSchema, text, key);
  return lockedUntil === undefined ? rest : { ...rest, lockedUntil };
}

function omitCodes(record: UserRecord): Omit<UserRecord, "recoveryCodes" | "totpLastStep" | "lastLoginAt"> {
  const { recoveryCodes: _codes, totpLastStep: _step, lastLoginAt: _login, ...rest } = record;
  return rest;
}

function parse<T>(schema: z.ZodType<T>, text: string, key: string): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  const parsed = schema.safeParse(value);
  // The issue names a field, never a value: the value may hold a hash.
  if (!parsed.success) throw new DamagedDataError(`the authentication record ${key} in etcd is damaged (${parsed.error.issues[0]?.path.join(".") ?? "format"}); restore etcd from a backup`);
  return parsed.data;
}
