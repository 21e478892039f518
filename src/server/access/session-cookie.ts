/**
 * The web console's credential: the session token in a cookie that scripts cannot read (HttpOnly), that no other
 * site's page sends (SameSite=Strict), only over TLS (Secure; the `__Host-` prefix also pins it to this origin and
 * path `/`). Writes made with the cookie must also carry a CSRF token: an HMAC of the session token, which the
 * console learns from its session endpoint and sends back in a header a cross-site form cannot set.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

/** The cookie that carries a console session. */
export const SESSION_COOKIE = "__Host-holdfast-session";
/** The header a cookie-authenticated write carries its CSRF token in. */
export const CSRF_HEADER = "x-csrf-token";

const SAFE_METHODS = new Set(["GET", "HEAD"]);
const TOKEN_SHAPE = /^[A-Za-z0-9_.-]{1,512}$/;

/** Where a request's credential came from. */
export interface Credential {
  token: string;
  from: "bearer" | "cookie";
}

/** The bearer token of a request, if any. */
export function bearerOf(request: IncomingMessage): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1];
}

/** The session cookie's value, if the request carries one of a token's shape. */
export function sessionCookieOf(request: IncomingMessage): string | undefined {
  const header = request.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(";")) {
    const separator = part.indexOf("=");
    if (separator < 0 || part.slice(0, separator).trim() !== SESSION_COOKIE) continue;
    const value = part.slice(separator + 1).trim();
    return TOKEN_SHAPE.test(value) ? value : undefined;
  }
  return undefined;
}

/** The request's credential: an Authorization header wins over the cookie (a header is never sent by another site). */
export function credentialOf(request: IncomingMessage): Credential | undefined {
  const bearer = bearerOf(request);
  if (bearer !== undefined) return { token: bearer, from: "bearer" };
  const cookie = sessionCookieOf(request);
  return cookie === undefined ? undefined : { token: cookie, from: "cookie" };
}

/** The CSRF token of a session: derived from it, so it needs no storage and dies with it. */
export function csrfTokenOf(sessionToken: string): string {
  return createHmac("sha256", sessionToken).update("holdfast console csrf v1").digest("base64url");
}

/**
 * Why a cookie-authenticated request must be refused, or undefined when it may go on: a write needs the CSRF
 * header, and a request that names its origin must come from this server's own.
 */
export function csrfRefusal(request: IncomingMessage, sessionToken: string): string | undefined {
  const origin = request.headers.origin;
  if (origin !== undefined && origin !== `https://${request.headers.host ?? ""}`) return "cross-origin request with the session cookie";
  if (SAFE_METHODS.has(request.method ?? "GET")) return undefined;
  const sent = request.headers[CSRF_HEADER];
  if (typeof sent !== "string") return "missing CSRF token";
  const expected = Buffer.from(csrfTokenOf(sessionToken));
  const given = Buffer.from(sent);
  return given.length === expected.length && timingSafeEqual(given, expected) ? undefined : "wrong CSRF token";
}

/** The Set-Cookie value that holds a session until `expiresAt`. */
export function sessionCookie(token: string, expiresAt: string): string {
  const seconds = Math.max(0, Math.floor((Date.parse(expiresAt) - Date.now()) / 1000));
  return `${SESSION_COOKIE}=${token}; Path=/; Max-Age=${seconds}; Secure; HttpOnly; SameSite=Strict`;
}

/** The Set-Cookie value that removes the session cookie. */
export const CLEARED_SESSION_COOKIE = `${SESSION_COOKIE}=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict`;
