/**
 * Credentials made with other credentials. An API token records the session or token it was created with; it never
 * outlives that parent: its expiry is capped by a parent token's, revoking a token revokes what it created, and a
 * session ended on purpose (logout, password change, MFA reset, disabling the user) revokes the tokens made in it.
 */
import type { DatabaseSync } from "node:sqlite";
import type { AuthContext } from "./context.ts";
import { deleteSession, sessionIdsOf } from "./sessions-table.ts";
import { findToken, revokeDescendants, type TokenParent, type TokenRow } from "./tokens-table.ts";
import { findUser } from "./users-table.ts";

// Deeper chains are refused outright: no automation needs them, and it bounds the walk below.
const MAX_CHAIN = 16;

/** End one session and revoke every token made with it. */
export function endSessionWithTokens(ctx: AuthContext, sessionId: string): void {
  deleteSession(ctx.db, sessionId);
  revokeDescendants(ctx.db, { kind: "session", id: sessionId }, ctx.now());
}

/** End every session of `username` and revoke every token made with them (call inside a transaction). */
export function endUserSessionsWithTokens(ctx: AuthContext, username: string): void {
  for (const id of sessionIdsOf(ctx.db, username)) endSessionWithTokens(ctx, id);
}

/**
 * The latest expiry a new token made with `parent` may have: a parent token's own, or, for a session, no cap (its
 * deliberate end revokes the token instead). Undefined when the parent token is no longer in force.
 */
export function expiryCapOf(ctx: AuthContext, parent: TokenParent | undefined): { cap: number } | undefined {
  if (parent?.kind !== "token") return { cap: Number.POSITIVE_INFINITY };
  const token = findToken(ctx.db, parent.id);
  return token === undefined || !ancestryInForce(ctx.db, token, ctx.now()) ? undefined : { cap: token.expiresAt };
}

/**
 * Whether `token` and every token above it are in force: not revoked, not expired, owned by an enabled user. A token
 * made by a token whose user was disabled stops working with it, and starts again if the user is enabled again.
 */
export function ancestryInForce(db: DatabaseSync, token: TokenRow, now: number): boolean {
  let current: TokenRow | undefined = token;
  for (let depth = 0; current !== undefined; depth++) {
    if (depth > MAX_CHAIN || current.revokedAt !== undefined || now >= current.expiresAt) return false;
    const owner = findUser(db, current.username);
    if (owner === undefined || owner.disabled) return false;
    const parent: TokenParent | undefined = current.parent;
    current = parent?.kind === "token" ? findToken(db, parent.id) : undefined;
    if (parent?.kind === "token" && current === undefined) return false;
  }
  return true;
}
