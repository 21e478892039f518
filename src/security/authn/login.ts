/** The login flow: throttle, password, second factor, then a new session. */
import { TooManyRequestsError } from "../../errors/index.ts";
import type { AuthContext } from "./context.ts";
import { isoTime } from "./context.ts";
import { mintSessionToken } from "./credentials.ts";
import { admitAttempt, recordSuccess, type AttemptKey } from "./login-attempts.ts";
import { LoginFailedError, type LoginFailureReason } from "./login-error.ts";
import { matchStoredTotp } from "./mfa.ts";
import { hashPassword, needsRehash, verifyPassword } from "./password-hash.ts";
import { codePointLength, normalizePassword, PASSWORD_MAX_LENGTH } from "./password-policy.ts";
import { hashRecoveryCode } from "./recovery-codes.ts";
import type { UserRow } from "./auth-backend.ts";
import { checkSource, normalizeUsername } from "./validation.ts";

/** A login request. Give `totp` or `recoveryCode`. */
export interface LoginInput {
  username: string;
  password: string;
  totp?: string;
  recoveryCode?: string;
  /** The client's address, for throttling and audit. */
  source: string;
}

/** A new session. */
export interface LoginResult {
  /** The bearer token (`hfs_…`); shown once, stored only as a hash. */
  token: string;
  /** When the session ends at the latest; inactivity for the idle timeout ends it sooner. */
  expiresAt: string;
  username: string;
}

/** Log in; throws TooManyRequestsError while throttled and LoginFailedError (401, generic message) on any failure. */
export async function login(ctx: AuthContext, input: LoginInput): Promise<LoginResult> {
  checkSource(input.source);
  const username = normalizeUsername(input.username);
  const user = await ctx.backend.findUser(username);
  const key: AttemptKey = { source: input.source, username: user?.username };
  const decision = await admitAttempt(ctx.backend, key, ctx.now(), ctx.policy.throttle);
  if (decision.kind === "wait") {
    throw new TooManyRequestsError(`too many failed sign-in attempts; try again in ${decision.retryAfterSeconds} seconds`, decision.retryAfterSeconds);
  }
  const password = normalizePassword(input.password);
  const failure = await checkCredentials(ctx, user, { ...input, password }, decision.kind === "locked");
  if (failure !== undefined || user === undefined) throw new LoginFailedError(failure ?? "unknown-user", username);
  await recordSuccess(ctx.backend, key);
  await rehashIfWeaker(ctx, user, password);
  await ctx.backend.recordLogin(user.username, ctx.now());
  return startSession(ctx, user.username, input.source);
}

async function checkCredentials(ctx: AuthContext, user: UserRow | undefined, input: LoginInput, locked: boolean): Promise<LoginFailureReason | undefined> {
  const tooLong = codePointLength(input.password) > PASSWORD_MAX_LENGTH;
  if (user === undefined || locked || tooLong) {
    // Spend the same argon2 time as a real verification, so timing does not tell who exists or is locked.
    await hashPassword(tooLong ? "" : input.password, ctx.policy.argon2);
    if (user === undefined) return "unknown-user";
    return locked ? "locked" : "bad-password";
  }
  if (!(await verifyPassword(input.password, user.passwordHash))) return "bad-password";
  if (user.disabled) return "disabled";
  return checkSecondFactor(ctx, user, input);
}

async function checkSecondFactor(ctx: AuthContext, user: UserRow, input: LoginInput): Promise<LoginFailureReason | undefined> {
  if (input.recoveryCode !== undefined && input.recoveryCode !== "") {
    const hash = hashRecoveryCode(user.username, input.recoveryCode);
    return (await ctx.backend.consumeRecoveryCode(user.username, hash, ctx.now())) ? undefined : "bad-recovery-code";
  }
  if (input.totp === undefined || input.totp === "") return "totp-required";
  const step = matchStoredTotp(ctx, user.username, user.totpSecret, input.totp);
  if (step === undefined) return "bad-totp";
  return (await ctx.backend.consumeTotpStep(user.username, step)) ? undefined : "totp-replayed";
}

/** Rehash with the current policy when the stored hash is weaker; compare-and-set, so a concurrent password change wins. */
async function rehashIfWeaker(ctx: AuthContext, user: UserRow, password: string): Promise<void> {
  if (!needsRehash(user.passwordHash, ctx.policy.argon2)) return;
  const rehashed = await hashPassword(password, ctx.policy.argon2);
  await ctx.backend.replacePasswordHash(user.username, user.passwordHash, rehashed);
}

async function startSession(ctx: AuthContext, username: string, source: string): Promise<LoginResult> {
  const now = ctx.now();
  const idleMillis = ctx.policy.sessionIdleSeconds * 1000;
  const absolute = ctx.policy.sessionAbsoluteSeconds * 1000;
  const minted = mintSessionToken();
  const session = { id: minted.id, username, secretHash: minted.secretHash, source, createdAt: now, lastSeenAt: now };
  await ctx.backend.insertSession(session, { now, idleMillis, absoluteMillis: absolute });
  return { token: minted.bearer, expiresAt: isoTime(now + absolute), username };
}
