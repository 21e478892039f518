/** User administration: create, list, disable, reset MFA, set password, delete. */
import { AlreadyExistsError, NotFoundError } from "../../errors/index.ts";
import { inTransaction } from "./auth-database.ts";
import { isoTime, type AuthContext } from "./context.ts";
import { issueMfa, type MfaSecrets } from "./mfa.ts";
import { hashPassword } from "./password-hash.ts";
import { checkPasswordPolicy, generatePassword, normalizePassword } from "./password-policy.ts";
import { endUserSessionsWithTokens } from "./credential-lineage.ts";
import { allUsers, findUser, insertUser, replaceMfa, updateDisabled, updatePasswordHash, type UserRow } from "./users-table.ts";
import { checkGroups, checkUsername, normalizeUsername } from "./validation.ts";

/** A new user. Omit `password` to have one generated. */
export interface NewUserInput {
  username: string;
  password?: string;
  groups?: string[];
}

/** Everything a new user needs, shown once: none of it can be read back later. */
export interface NewUserSecrets extends MfaSecrets {
  username: string;
  password: string;
}

/** A user as listed: never secrets or hashes. */
export interface UserSummary {
  username: string;
  groups: string[];
  disabled: boolean;
  createdAt: string;
  lastLoginAt?: string;
  /** True once a TOTP code from the current seed has been accepted, i.e. the authenticator app is set up. */
  mfaEnrolled: boolean;
}

/** Create a user with a password, a TOTP seed and recovery codes. */
export async function createUser(ctx: AuthContext, input: NewUserInput): Promise<NewUserSecrets> {
  const username = normalizeUsername(input.username);
  checkUsername(username);
  const groups = checkGroups(input.groups ?? []);
  const password = input.password === undefined ? generatePassword() : normalizePassword(input.password);
  checkPasswordPolicy(password, ctx.commonPasswords());
  const passwordHash = await hashPassword(password, ctx.policy.argon2);
  const mfa = issueMfa(ctx, username);
  const user: UserRow = {
    username,
    groups,
    passwordHash,
    totpSecret: mfa.totpCiphertext,
    totpLastStep: undefined,
    disabled: false,
    createdAt: ctx.now(),
    lastLoginAt: undefined,
  };
  if (!insertUser(ctx.db, user, mfa.recoveryCodeHashes)) {
    throw new AlreadyExistsError(`user "${username}" already exists; choose another name or reset that user's password`, { subject: { kind: "User", name: username } });
  }
  return { username, password, ...mfa.shown };
}

/** Every user, by name. */
export function listUsers(ctx: AuthContext): UserSummary[] {
  return allUsers(ctx.db).map((user) => {
    const summary: UserSummary = { username: user.username, groups: user.groups, disabled: user.disabled, createdAt: isoTime(user.createdAt), mfaEnrolled: user.totpLastStep !== undefined };
    if (user.lastLoginAt !== undefined) summary.lastLoginAt = isoTime(user.lastLoginAt);
    return summary;
  });
}

/** Disable or enable a user; disabling ends their sessions (revoking the tokens made in them), and their API tokens stop working while disabled. */
export function setDisabled(ctx: AuthContext, username: string, disabled: boolean): void {
  const name = requireUser(ctx, username);
  inTransaction(ctx.db, () => {
    updateDisabled(ctx.db, name, disabled);
    if (disabled) endUserSessionsWithTokens(ctx, name);
  });
}

/** Issue a new TOTP seed and recovery codes (the old ones stop working) and end the user's sessions and the tokens made in them. */
export function resetMfa(ctx: AuthContext, username: string): MfaSecrets {
  const name = requireUser(ctx, username);
  const mfa = issueMfa(ctx, name);
  inTransaction(ctx.db, () => {
    replaceMfa(ctx.db, name, mfa.totpCiphertext, mfa.recoveryCodeHashes);
    endUserSessionsWithTokens(ctx, name);
  });
  return mfa.shown;
}

/** Set a new password (checked against the policy) and end the user's sessions and the tokens made in them. */
export async function setPassword(ctx: AuthContext, username: string, password: string): Promise<void> {
  const name = requireUser(ctx, username);
  const normalized = normalizePassword(password);
  checkPasswordPolicy(normalized, ctx.commonPasswords());
  const passwordHash = await hashPassword(normalized, ctx.policy.argon2);
  inTransaction(ctx.db, () => {
    updatePasswordHash(ctx.db, name, passwordHash);
    endUserSessionsWithTokens(ctx, name);
  });
}

/** Delete a user with their sessions, tokens and recovery codes; tokens their sessions made for others are revoked. */
export function deleteUser(ctx: AuthContext, username: string): void {
  const name = requireUser(ctx, username);
  inTransaction(ctx.db, () => {
    endUserSessionsWithTokens(ctx, name);
    // Tokens made with the user's own tokens stop working once those rows are gone (credential-lineage.ts).
    ctx.db.prepare("DELETE FROM users WHERE username = ?").run(name);
  });
}

/** The stored name of an existing user, or NotFoundError. */
export function requireUser(ctx: AuthContext, username: string): string {
  const name = normalizeUsername(username);
  if (findUser(ctx.db, name) === undefined) {
    throw new NotFoundError(`user "${name}" not found; list users to see who exists`, { subject: { kind: "User", name } });
  }
  return name;
}
