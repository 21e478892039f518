/**
 * Where authentication state lives: users, recovery codes, sessions, API tokens, login failure counters and the TOTP
 * replay marker. Two backends implement it: the sqlite file of a single machine (sqlite-auth-backend.ts) and etcd,
 * shared by every control-plane node (etcd-auth-backend.ts). Each method is one atomic step; the decisions (throttle
 * rules, lineage, expiry) stay in the callers, so both backends behave alike. Secrets appear only as hashes, or (TOTP
 * seeds) as keyring ciphertexts.
 */
import type { FailureCounter } from "./throttle.ts";

/** A user as stored. */
export interface UserRow {
  username: string;
  groups: string[];
  passwordHash: string;
  /** Keyring ciphertext of the TOTP seed. */
  totpSecret: string;
  /** The last TOTP time step accepted; a code must be from a later step. */
  totpLastStep: number | undefined;
  disabled: boolean;
  createdAt: number;
  lastLoginAt: number | undefined;
}

/** A login session; its secret exists only as a hash. */
export interface SessionRow {
  id: string;
  username: string;
  secretHash: Uint8Array;
  source: string;
  createdAt: number;
  lastSeenAt: number;
}

/** The credential a token was created with: a login session or another API token. */
export interface TokenParent {
  kind: "session" | "token";
  id: string;
}

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
  /** Undefined for tokens made outside the API (set-up, tests) or by earlier versions. */
  parent: TokenParent | undefined;
}

/** One failure counter: per account, per (account, source) pair, or per source for unknown user names. */
export interface CounterKey {
  scope: "unknown" | "account" | "pair";
  key: string;
}

/** What a counter update decides: its result, and the counters to write (undefined removes one), if any. */
export interface CounterUpdate<T> {
  result: T;
  write?: (FailureCounter | undefined)[];
}

/** A change to a user; every field given is replaced. */
export interface UserChange {
  passwordHash?: string;
  disabled?: boolean;
  /** A new TOTP seed and recovery codes; the replay marker starts over with the new seed. */
  mfa?: { totpSecret: string; recoveryCodeHashes: Buffer[] };
}

/** Sessions idle or past their absolute lifetime at `now` are expired. */
export interface SessionExpiry {
  now: number;
  idleMillis: number;
  absoluteMillis: number;
}

/** The storage of authentication state. Every method is atomic on its own; none leaves a half-done change. */
export interface AuthBackend {
  findUser(username: string): Promise<UserRow | undefined>;
  /** Every user, by name. */
  listUsers(): Promise<UserRow[]>;
  anyUser(): Promise<boolean>;
  /** Insert a user with their recovery code hashes; false when the name is taken. */
  insertUser(user: UserRow, recoveryCodeHashes: Buffer[]): Promise<boolean>;
  /**
   * Apply `change` to an existing user; with `endSessionsAt`, also end every session of the user and revoke the
   * tokens made with them (to any depth) as of that time, in the same step.
   */
  updateUser(username: string, change: UserChange, endSessionsAt?: number): Promise<void>;
  /** Replace the password hash only if it is still `expected` (a concurrent password change wins). */
  replacePasswordHash(username: string, expected: string, next: string): Promise<void>;
  /** Record a successful login. */
  recordLogin(username: string, at: number): Promise<void>;
  /** Delete a user with their recovery codes, sessions and tokens; tokens their sessions made for others are revoked. */
  deleteUser(username: string, at: number): Promise<void>;
  /** Accept TOTP step `step` only if it is later than the last accepted one; of two concurrent callers exactly one wins. */
  consumeTotpStep(username: string, step: number): Promise<boolean>;
  /** Mark the unused recovery code with hash `codeHash` used (compared in constant time); false when unknown or used. */
  consumeRecoveryCode(username: string, codeHash: Buffer, at: number): Promise<boolean>;
  /** Re-encrypt TOTP seeds: `rewrap` returns the new ciphertext or undefined to keep it; each changes only if unchanged meanwhile. */
  rewrapTotpSecrets(rewrap: (username: string, ciphertext: string) => string | undefined): Promise<number>;

  /** Store a new session of an existing user, first dropping expired sessions so abandoned logins do not pile up. */
  insertSession(session: SessionRow, expiry: SessionExpiry): Promise<void>;
  findSession(id: string): Promise<SessionRow | undefined>;
  /** Record activity on a session, which restarts its idle timer. */
  touchSession(id: string, at: number): Promise<void>;
  /** Drop one (expired) session. */
  deleteSession(id: string): Promise<void>;
  /** End one session and revoke every token made with it, to any depth. */
  endSession(id: string, at: number): Promise<void>;

  /** Store a new token of an existing user. */
  insertToken(token: TokenRow): Promise<void>;
  findToken(id: string): Promise<TokenRow | undefined>;
  /** Tokens of `username`, or of everyone, oldest first. */
  listTokens(username: string | undefined): Promise<TokenRow[]>;
  /** Record a use of the token. */
  touchToken(id: string, at: number): Promise<void>;
  /** Revoke a token and every token made with it, to any depth, at once; the first revocation time is kept. */
  revokeToken(id: string, at: number): Promise<void>;

  /** Atomically read the counters at `keys` and write what `decide` returns: concurrent attempts are counted one by one. */
  updateFailureCounters<T>(keys: readonly CounterKey[], decide: (counters: (FailureCounter | undefined)[]) => CounterUpdate<T>): Promise<T>;

  /** Make deleted and superseded data (old ciphertexts, ended sessions) unrecoverable from this backend's files. */
  scrubDeletedData(): Promise<void>;
  close(): void;
}
