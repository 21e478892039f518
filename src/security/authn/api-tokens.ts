/** API tokens: long-lived bearer credentials for automation, each with a name and a mandatory expiry. */
import { NotFoundError } from "../../errors/index.ts";
import { isoTime, type AuthContext } from "./context.ts";
import { mintApiToken } from "./credentials.ts";
import { findToken, insertToken, listTokenRows, markTokenRevoked } from "./tokens-table.ts";
import { requireUser } from "./user-admin.ts";
import { checkTokenLifetime, checkTokenName } from "./validation.ts";

/** A token request: whose, what it is for, and how long it lives (required; at most a year by default). */
export interface NewTokenInput {
  username: string;
  name: string;
  expiresInSeconds: number;
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

/** Create an API token for an existing user. */
export function createToken(ctx: AuthContext, input: NewTokenInput): NewToken {
  checkTokenName(input.name);
  checkTokenLifetime(input.expiresInSeconds, ctx.policy.maxTokenLifetimeSeconds);
  const username = requireUser(ctx, input.username);
  const now = ctx.now();
  const minted = mintApiToken();
  const expiresAt = now + input.expiresInSeconds * 1000;
  insertToken(ctx.db, { id: minted.id, username, name: input.name, secretHash: minted.secretHash, createdAt: now, expiresAt, lastUsedAt: undefined, revokedAt: undefined });
  return { id: minted.id, token: minted.bearer, name: input.name, expiresAt: isoTime(expiresAt) };
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

/** Revoke a token; the next request that presents it is refused. */
export function revokeToken(ctx: AuthContext, id: string): void {
  if (findToken(ctx.db, id) === undefined) throw new NotFoundError(`API token ${id} not found; list tokens to see their ids`, { subject: { kind: "APIToken", name: id } });
  markTokenRevoked(ctx.db, id, ctx.now());
}
