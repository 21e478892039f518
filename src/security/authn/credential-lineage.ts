/**
 * Credentials made with other credentials. An API token records the session or token it was created with; it never
 * outlives that parent: its expiry is capped by a parent token's, revoking a token revokes what it created, and a
 * session ended on purpose (logout, password change, MFA reset, disabling the user) revokes the tokens made in it
 * (the backends do that walk in the same atomic step as the change).
 */
import type { AuthBackend, TokenParent, TokenRow } from "./auth-backend.ts";
import type { AuthContext } from "./context.ts";

// Deeper chains are refused outright: no automation needs them, and it bounds the walk below.
const MAX_CHAIN = 16;

/**
 * The latest expiry a new token made with `parent` may have: a parent token's own, or, for a session, no cap (its
 * deliberate end revokes the token instead). Undefined when the parent token is no longer in force.
 */
export async function expiryCapOf(ctx: AuthContext, parent: TokenParent | undefined): Promise<{ cap: number } | undefined> {
  if (parent?.kind !== "token") return { cap: Number.POSITIVE_INFINITY };
  const token = await ctx.backend.findToken(parent.id);
  return token === undefined || !(await ancestryInForce(ctx.backend, token, ctx.now())) ? undefined : { cap: token.expiresAt };
}

/**
 * Whether `token` and every token above it are in force: not revoked, not expired, owned by an enabled user. A token
 * made by a token whose user was disabled stops working with it, and starts again if the user is enabled again.
 */
export async function ancestryInForce(backend: AuthBackend, token: TokenRow, now: number): Promise<boolean> {
  let current: TokenRow | undefined = token;
  for (let depth = 0; current !== undefined; depth++) {
    if (depth > MAX_CHAIN || current.revokedAt !== undefined || now >= current.expiresAt) return false;
    const owner = await backend.findUser(current.username);
    if (owner === undefined || owner.disabled) return false;
    const parent: TokenParent | undefined = current.parent;
    current = parent?.kind === "token" ? await backend.findToken(parent.id) : undefined;
    if (parent?.kind === "token" && current === undefined) return false;
  }
  return true;
}
