/** Login (the one endpoint served without credentials), logout and whoami. */
import type { IncomingMessage } from "node:http";
import { z } from "zod";
import { LoginFailedError } from "../../security/index.ts";
import type { AuditDraft } from "../access/index.ts";
import { CLEARED_SESSION_COOKIE, credentialOf, csrfTokenOf, sessionCookie } from "../access/index.ts";
import type { Endpoint } from "../endpoint.ts";
import { MethodNotAllowedError } from "../http-errors.ts";
import type { PublicEndpoint } from "../pipeline.ts";
import { readJsonBody, requireMediaType } from "../request-body.ts";
import { AUTHENTICATION_GROUP, ok, selfService, success, type SecurityServices } from "./services.ts";
import { InputError } from "../../errors/index.ts";

const loginSchema = z.strictObject({
  username: z.string().max(256),
  password: z.string().max(1024),
  totp: z.string().max(16).optional(),
  recoveryCode: z.string().max(64).optional(),
});

const LOGIN_BODY_LIMIT = 8 * 1024;

/** POST login: password plus TOTP (or a recovery code) → a session token. Every attempt is audited. */
export function loginEndpoint(services: SecurityServices): PublicEndpoint {
  return {
    verb: "create",
    objectRef: { resource: "sessions", apiGroup: AUTHENTICATION_GROUP },
    run: (request, draft) => login(services, request, draft),
  };
}

async function login(services: SecurityServices, request: IncomingMessage, draft: AuditDraft): Promise<ReturnType<typeof ok>> {
  if (request.method !== "POST") throw new MethodNotAllowedError(`${request.method ?? ""} is not allowed on login; POST {username, password, totp}`);
  requireMediaType(request, "application/json");
  const parsed = loginSchema.safeParse(await readJsonBody(request, LOGIN_BODY_LIMIT));
  if (!parsed.success) throw new InputError("a login needs a JSON body {username, password, totp} (or recoveryCode instead of totp)");
  const input = parsed.data;
  const method = input.recoveryCode === undefined ? "password+totp" : "password+recoveryCode";
  draft.user = { username: input.username, groups: [] };
  try {
    const result = await services.auth.login({
      username: input.username,
      password: input.password,
      ...(input.totp === undefined ? {} : { totp: input.totp }),
      ...(input.recoveryCode === undefined ? {} : { recoveryCode: input.recoveryCode }),
      source: draft.sourceIPs[0] ?? "unknown",
    });
    draft.user = { username: result.username, groups: [] };
    draft.authentication = { outcome: "success", method };
    return ok(result);
  } catch (error) {
    const reason = error instanceof LoginFailedError ? error.failureReason : error instanceof Error ? error.name : "error";
    if (error instanceof LoginFailedError) draft.user = { username: error.username, groups: [] };
    draft.authentication = { outcome: "failure", method, reason };
    throw error;
  }
}

/**
 * POST the console's login: the same login (and audit) as the API's, but the session token goes into an HttpOnly
 * cookie instead of the body; the body names the user and the session's CSRF token.
 */
export function consoleLoginEndpoint(services: SecurityServices): PublicEndpoint {
  const api = loginEndpoint(services);
  return {
    ...api,
    run: async (request, draft) => {
      const reply = await login(services, request, draft);
      const session = reply.body as { token: string; username: string; expiresAt: string };
      return {
        status: 200,
        body: { username: session.username, expiresAt: session.expiresAt, csrfToken: csrfTokenOf(session.token) },
        headers: { "Set-Cookie": sessionCookie(session.token, session.expiresAt) },
      };
    },
  };
}

/** GET the console's session: who is signed in, and the CSRF token its writes carry. */
export function consoleSessionEndpoint(method: string): Endpoint {
  if (method !== "GET") throw new MethodNotAllowedError(`${method} is not allowed on the console's session; GET it, or POST the logout endpoint`);
  return {
    permission: () => selfService({ verb: "get", apiGroup: AUTHENTICATION_GROUP, resource: "whoami" }, "anyone signed in may ask who they are"),
    run: (exchange) => {
      const credential = credentialOf(exchange.request);
      const csrfToken = credential?.from === "cookie" ? csrfTokenOf(credential.token) : undefined;
      return Promise.resolve(ok({ username: exchange.identity.username, groups: exchange.identity.groups, ...(csrfToken === undefined ? {} : { csrfToken }) }));
    },
  };
}

/** POST logout: end the caller's session. */
export function logoutEndpoint(services: SecurityServices, method: string): Endpoint {
  if (method !== "POST") throw new MethodNotAllowedError(`${method} is not allowed on logout; use POST`);
  return {
    permission: () => selfService({ verb: "delete", apiGroup: AUTHENTICATION_GROUP, resource: "sessions" }, "users end their own session"),
    run: async (exchange) => {
      const credential = credentialOf(exchange.request);
      if (credential !== undefined) await services.auth.logout(credential.token);
      const reply = success("logged out; the session is revoked");
      return credential?.from === "cookie" ? { ...reply, headers: { "Set-Cookie": CLEARED_SESSION_COOKIE } } : reply;
    },
  };
}

/** GET whoami: who the caller is, as the server sees it. */
export function whoamiEndpoint(method: string): Endpoint {
  if (method !== "GET") throw new MethodNotAllowedError(`${method} is not allowed on whoami; use GET`);
  return {
    permission: () => selfService({ verb: "get", apiGroup: AUTHENTICATION_GROUP, resource: "whoami" }, "anyone signed in may ask who they are"),
    run: (exchange) => Promise.resolve(ok({ username: exchange.identity.username, groups: exchange.identity.groups, via: exchange.identity.via })),
  };
}
