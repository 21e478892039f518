/** API tokens: long-lived bearer credentials for automation, each with a name and a mandatory expiry. */
import { AuthenticationError, NotFoundError } from "../../errors/index.ts";
import { isoTime, type AuthContext } from "./context.ts";
import { expiryCapOf } from "./credential-lineage.ts";
import { mintApiToken } from "./credentials.ts";
import { inTransaction } from "./auth-database.ts";
import { findToken, insertToken, listTokenRows, markTokenRevoked, revokeDescendants, type TokenParent } from "./tokens-table.ts";
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
export function createToken(ctx: AuthContext, input: NewTokenInput): NewToken {
  checkTokenName(input.name);
  checkTokenLifetime(input.expiresInSeconds, ctx.policy.maxTokenLifetimeSeconds);
  const username = requireUser(ctx, input.username);
  return inTransaction(ctx.db, () => {
    const limit = expiryCapOf(ctx, input.parent);
    if (limit === undefined) throw new AuthenticationError("the API token this request was made with is no longer valid; sign in again");
    const now = ctx.now();
    const minted = mintApiToken();
    const expiresAt = Math.min(now + input.expiresInSeconds * 1000, limit.cap);
    insertToken(ctx.db, { id: minted.id, username, name: input.name, secretHash: minted.secretHash, createdAt: now, expiresAt, lastUsedAt: undefined, revokedAt: undefined, parent: input.parent });
    return { id: minted.id, token: minted.bearer, name: input.name, expiresAt: isoTime(expiresAt) };
  });
}

/** Tokens of `username`, or of every user. */
export function listTokens(ctx: AuthContext, username?: string): TokenSummary[] {
  const owner = username === undefined ? undefined : requireUser(ctx, username);
  return listTokenRows(ctx.db, owner).map((row) => {
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
export function revokeToken(ctx: AuthContext, id: string): void {
  if (findToken(ctx.db, id) === undefined) throw new NotFoundError(`API token ${id} not found; list tokens to see their ids`, { subject: { kind: "APIToken", name: id } });
  inTransaction(ctx.db, () => {
    const now = ctx.now();
    markTokenRevoked(ctx.db, id, now);
    revokeDescendants(ctx.db, { kind: "token", id }, now);
  });
}
