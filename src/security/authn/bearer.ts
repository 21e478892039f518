/** Authenticating a request's bearer credential: a session token or an API token. */
import { AUTHENTICATED_GROUP, type Identity } from "../identity.ts";
import type { AuthContext } from "./context.ts";
import { parseBearer, secretMatches, type ParsedCredential } from "./credentials.ts";
import { ancestryInForce } from "./credential-lineage.ts";

// Last-used times are written at most once a minute, so each request does not cost a synchronous write;
// the idle timeout is therefore exact to within a minute.
const TOUCH_INTERVAL_MILLIS = 60_000;

/** The identity behind `bearer`, or undefined when it is malformed, unknown, expired, revoked, or its user is disabled. */
export async function authenticateBearer(ctx: AuthContext, bearer: string): Promise<Identity | undefined> {
  const parsed = parseBearer(bearer);
  if (parsed === undefined) return undefined;
  const live = parsed.kind === "session" ? await liveSession(ctx, parsed) : await liveToken(ctx, parsed);
  if (live === undefined) return undefined;
  const user = await ctx.backend.findUser(live.username);
  if (user === undefined || user.disabled) return undefined;
  const now = ctx.now();
  if (now - live.lastTouchedAt >= TOUCH_INTERVAL_MILLIS) {
    if (parsed.kind === "session") await ctx.backend.touchSession(parsed.id, now);
    else await ctx.backend.touchToken(parsed.id, now);
  }
  return { username: user.username, groups: [...new Set([...user.groups, AUTHENTICATED_GROUP])], via: parsed.kind, credentialId: parsed.id };
}

/** End the session `bearer` names, if it is a valid session token, revoking the tokens made in it; API tokens are ended by revocation instead. */
export async function endSession(ctx: AuthContext, bearer: string): Promise<void> {
  const parsed = parseBearer(bearer);
  if (parsed?.kind !== "session") return;
  const session = await ctx.backend.findSession(parsed.id);
  // Check the secret: the id appears in audit records, and knowing it must not let anyone end the session.
  if (session !== undefined && secretMatches(parsed.secret, session.secretHash)) await ctx.backend.endSession(session.id, ctx.now());
}

/** A credential that is in force: whose it is and when its use was last recorded. */
interface LiveCredential {
  username: string;
  lastTouchedAt: number;
}

async function liveSession(ctx: AuthContext, parsed: ParsedCredential): Promise<LiveCredential | undefined> {
  const session = await ctx.backend.findSession(parsed.id);
  if (session === undefined || !secretMatches(parsed.secret, session.secretHash)) return undefined;
  const now = ctx.now();
  const idleEnd = session.lastSeenAt + ctx.policy.sessionIdleSeconds * 1000;
  const absoluteEnd = session.createdAt + ctx.policy.sessionAbsoluteSeconds * 1000;
  if (now >= idleEnd || now >= absoluteEnd) {
    await ctx.backend.deleteSession(session.id);
    return undefined;
  }
  return { username: session.username, lastTouchedAt: session.lastSeenAt };
}

async function liveToken(ctx: AuthContext, parsed: ParsedCredential): Promise<LiveCredential | undefined> {
  const token = await ctx.backend.findToken(parsed.id);
  if (token === undefined || !secretMatches(parsed.secret, token.secretHash)) return undefined;
  // Revoked, expired, or made with a token that is (or whose user is disabled): see credential-lineage.ts.
  if (!(await ancestryInForce(ctx.backend, token, ctx.now()))) return undefined;
  return { username: token.username, lastTouchedAt: token.lastUsedAt ?? 0 };
}

/** Why a well-formed credential whose secret matches was refused; undefined when it is unknown, forged or merely expired. */
export interface BearerRefusal {
  username: string;
  reason: "revoked token" | "disabled user";
}

/** Explain a refusal (audit only). A credential whose secret does not match tells nothing: its id alone proves nothing. */
export async function explainRefusal(ctx: AuthContext, bearer: string): Promise<BearerRefusal | undefined> {
  const parsed = parseBearer(bearer);
  if (parsed === undefined) return undefined;
  const found = parsed.kind === "session" ? await ctx.backend.findSession(parsed.id) : await ctx.backend.findToken(parsed.id);
  if (found === undefined || !secretMatches(parsed.secret, found.secretHash)) return undefined;
  const user = await ctx.backend.findUser(found.username);
  if (user?.disabled === true) return { username: found.username, reason: "disabled user" };
  if ("revokedAt" in found && found.revokedAt !== undefined) return { username: found.username, reason: "revoked token" };
  return undefined;
}
