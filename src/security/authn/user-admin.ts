/** User administration: create, list, disable, reset MFA, set password, delete. */
import { AlreadyExistsError, NotFoundError } from "../../errors/index.ts";
import { isoTime, type AuthContext } from "./context.ts";
import { issueMfa, type MfaSecrets } from "./mfa.ts";
import { hashPassword } from "./password-hash.ts";
import { checkPasswordPolicy, generatePassword, normalizePassword } from "./password-policy.ts";
import type { UserRow } from "./auth-backend.ts";
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
  if (!(await ctx.backend.insertUser(user, mfa.recoveryCodeHashes))) {
    throw new AlreadyExistsError(`user "${username}" already exists; choose another name or reset that user's password`, { subject: { kind: "User", name: username } });
  }
  return { username, password, ...mfa.shown };
}

/** Every user, by name. */
export async function listUsers(ctx: AuthContext): Promise<UserSummary[]> {
  return (await ctx.backend.listUsers()).map((user) => {
    const summary: UserSummary = { username: user.username, groups: user.groups, disabled: user.disabled, createdAt: isoTime(user.createdAt), mfaEnrolled: user.totpLastStep !== undefined };
    if (user.lastLoginAt !== undefined) summary.lastLoginAt = isoTime(user.lastLoginAt);
    return summary;
  });
}

/** Disable or enable a user; disabling ends their sessions (revoking the tokens made in them), and their API tokens stop working while disabled. */
export async function setDisabled(ctx: AuthContext, username: string, disabled: boolean): Promise<void> {
  const name = await requireUser(ctx, username);
  await ctx.backend.updateUser(name, { disabled }, disabled ? ctx.now() : undefined);
}

/** Issue a new TOTP seed and recovery codes (the old ones stop working) and end the user's sessions and the tokens made in them. */
export async function resetMfa(ctx: AuthContext, username: string): Promise<MfaSecrets> {
  const name = await requireUser(ctx, username);
  const mfa = issueMfa(ctx, name);
  await ctx.backend.updateUser(name, { mfa: { totpSecret: mfa.totpCiphertext, recoveryCodeHashes: mfa.recoveryCodeHashes } }, ctx.now());
  return mfa.shown;
}

/** Set a new password (checked against the policy) and end the user's sessions and the tokens made in them. */
export async function setPassword(ctx: AuthContext, username: string, password: string): Promise<void> {
  const name = await requireUser(ctx, username);
  const normalized = normalizePassword(password);
  checkPasswordPolicy(normalized, ctx.commonPasswords());
  const passwordHash = await hashPassword(normalized, ctx.policy.argon2);
  await ctx.backend.updateUser(name, { passwordHash }, ctx.now());
}

/** Delete a user with their sessions, tokens and recovery codes; tokens their sessions made for others are revoked. */
export async function deleteUser(ctx: AuthContext, username: string): Promise<void> {
  const name = await requireUser(ctx, username);
  await ctx.backend.deleteUser(name, ctx.now());
}

/** The stored name of an existing user, or NotFoundError. */
export async function requireUser(ctx: AuthContext, username: string): Promise<string> {
  const name = normalizeUsername(username);
  if ((await ctx.backend.findUser(name)) === undefined) {
    throw new NotFoundError(`user "${name}" not found; list users to see who exists`, { subject: { kind: "User", name } });
  }
  return name;
}

/** End every session of a user and revoke every API token they own (and those made with them); returns how many tokens. */
export async function revokeCredentials(ctx: AuthContext, username: string): Promise<number> {
  const name = await requireUser(ctx, username);
  const at = ctx.now();
  await ctx.backend.updateUser(name, {}, at);
  const live = (await ctx.backend.listTokens(name)).filter((token) => token.revokedAt === undefined);
  for (const token of live) await ctx.backend.revokeToken(token.id, at);
  return live.length;
}
