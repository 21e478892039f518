/** API tokens: long-lived bearer credentials for automation, each with a name and a mandatory expiry. */
import { AuthenticationError, NotFoundError } from "../../errors/index.ts";
import { isoTime, type AuthContext } from "./context.ts";
import { expiryCapOf } from "./credential-lineage.ts";
import { mintApiToken } from "./credentials.ts";
import type { TokenParent } from "./auth-backend.ts";
import { requireUser } from "./user-admin.ts";
import { checkTokenLifetime, checkTokenName } from "./validation.ts";

/** A token request: whose, what it is for, and how long it lives (required; at most a year by default). */
export interface NewTokenInput {
  username: string;
  name: string;
  expiresInSeconds: number;
  /** The credential the request was made with; the new token never outlives it (credential-lineage.ts). */
  parent?: TokenParent | undefined;
}

/** A new token: `token` is shown once and cannot be read back. */
export interface NewToken {
  id: string;
  token: string;
  name: string;
  expiresAt: string;
}

/** A token as listed: never the token itself. */
export interface TokenSummary {
  id: string;
  name: string;
  username: string;
  createdAt: string;
  expiresAt: string;
  lastUsedAt?: string;
  revoked: boolean;
}

/** Create an API token for an existing user; made with another token, it expires no later than that token. */
export async function createToken(ctx: AuthContext, input: NewTokenInput): Promise<NewToken> {
  checkTokenName(input.name);
  checkTokenLifetime(input.expiresInSeconds, ctx.policy.maxTokenLifetimeSeconds);
  const username = await requireUser(ctx, input.username);
  // A parent revoked right after this check does not help the new token: its lineage is checked on every use.
  const limit = await expiryCapOf(ctx, input.parent);
  if (limit === undefined) throw new AuthenticationError("the API token this request was made with is no longer valid; sign in again");
  const now = ctx.now();
  const minted = mintApiToken();
  const expiresAt = Math.min(now + input.expiresInSeconds * 1000, limit.cap);
  await ctx.backend.insertToken({ id: minted.id, username, name: input.name, secretHash: minted.secretHash, createdAt: now, expiresAt, lastUsedAt: undefined, revokedAt: undefined, parent: input.parent });
  return { id: minted.id, token: minted.bearer, name: input.name, expiresAt: isoTime(expiresAt) };
}

/** Tokens of `username`, or of every user. */
export async function listTokens(ctx: AuthContext, username?: string): Promise<TokenSummary[]> {
  const owner = username === undefined ? undefined : await requireUser(ctx, username);
  return (await ctx.backend.listTokens(owner)).map((row) => {
    const summary: TokenSummary = {
      id: row.id,
      name: row.name,
      username: row.username,
      createdAt: isoTime(row.createdAt),
      expiresAt: isoTime(row.expiresAt),
      revoked: row.revokedAt !== undefined,
    };
    if (row.lastUsedAt !== undefined) summary.lastUsedAt = isoTime(row.lastUsedAt);
    return summary;
  });
}

/** Revoke a token and every token made with it; the next request that presents any of them is refused. */
export async function revokeToken(ctx: AuthContext, id: string): Promise<void> {
  if ((await ctx.backend.findToken(id)) === undefined) throw new NotFoundError(`API token ${id} not found; list tokens to see their ids`, { subject: { kind: "APIToken", name: id } });
  await ctx.backend.revokeToken(id, ctx.now());
}
