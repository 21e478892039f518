/** Authenticating a request's bearer credential: a session token or an API token. */
import { inTransaction } from "./auth-database.ts";
import { AUTHENTICATED_GROUP, type Identity } from "../identity.ts";
import type { AuthContext } from "./context.ts";
import { parseBearer, secretMatches, type ParsedCredential } from "./credentials.ts";
import { ancestryInForce, endSessionWithTokens } from "./credential-lineage.ts";
import { deleteSession, findSession, touchSession } from "./sessions-table.ts";
import { findToken, touchToken } from "./tokens-table.ts";
import { findUser } from "./users-table.ts";

// Last-used times are written at most once a minute, so each request does not cost a synchronous disk write;
// the idle timeout is therefore exact to within a minute.
const TOUCH_INTERVAL_MILLIS = 60_000;

/** The identity behind `bearer`, or undefined when it is malformed, unknown, expired, revoked, or its user is disabled. */
export function authenticateBearer(ctx: AuthContext, bearer: string): Identity | undefined {
  const parsed = parseBearer(bearer);
  if (parsed === undefined) return undefined;
  const live = parsed.kind === "session" ? liveSession(ctx, parsed) : liveToken(ctx, parsed);
  if (live === undefined) return undefined;
  const user = findUser(ctx.db, live.username);
  if (user === undefined || user.disabled) return undefined;
  const now = ctx.now();
  if (now - live.lastTouchedAt >= TOUCH_INTERVAL_MILLIS) {
    if (parsed.kind === "session") touchSession(ctx.db, parsed.id, now);
    else touchToken(ctx.db, parsed.id, now);
  }
  return { username: user.username, groups: [...new Set([...user.groups, AUTHENTICATED_GROUP])], via: parsed.kind, credentialId: parsed.id };
}

/** End the session `bearer` names, if it is a valid session token, revoking the tokens made in it; API tokens are ended by revocation instead. */
export function endSession(ctx: AuthContext, bearer: string): void {
  const parsed = parseBearer(bearer);
  if (parsed?.kind !== "session") return;
  const session = findSession(ctx.db, parsed.id);
  // Check the secret: the id appears in audit records, and knowing it must not let anyone end the session.
  if (session !== undefined && secretMatches(parsed.secret, session.secretHash)) inTransaction(ctx.db, () => endSessionWithTokens(ctx, session.id));
}

/** A credential that is in force: whose it is and when its use was last recorded. */
interface LiveCredential {
  username: string;
  lastTouchedAt: number;
}

function liveSession(ctx: AuthContext, parsed: ParsedCredential): LiveCredential | undefined {
  const session = findSession(ctx.db, parsed.id);
  if (session === undefined || !secretMatches(parsed.secret, session.secretHash)) return undefined;
  const now = ctx.now();
  const idleEnd = session.lastSeenAt + ctx.policy.sessionIdleSeconds * 1000;
  const absoluteEnd = session.createdAt + ctx.policy.sessionAbsoluteSeconds * 1000;
  if (now >= idleEnd || now >= absoluteEnd) {
    deleteSession(ctx.db, session.id);
    return undefined;
  }
  return { username: session.username, lastTouchedAt: session.lastSeenAt };
}

function liveToken(ctx: AuthContext, parsed: ParsedCredential): LiveCredential | undefined {
  const token = findToken(ctx.db, parsed.id);
  if (token === undefined || !secretMatches(parsed.secret, token.secretHash)) return undefined;
  // Revoked, expired, or made with a token that is (or whose user is disabled): see credential-lineage.ts.
  if (!ancestryInForce(ctx.db, token, ctx.now())) return undefined;
  return { username: token.username, lastTouchedAt: token.lastUsedAt ?? 0 };
}
