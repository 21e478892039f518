/** What the security endpoints are built on, and small helpers they share. */
import type { z } from "zod";
import { InputError } from "../../errors/index.ts";
import type { AuthService, Authorizer, RequestAttributes } from "../../security/index.ts";
import { issuesToCauses } from "../admission/index.ts";
import type { Exchange, Permission, Reply } from "../endpoint.ts";
import { requireMediaType } from "../request-body.ts";

/** Key management the server offers (rotation and re-encryption run inside the server, which holds the keyring). */
export interface KeyOperations {
  describe(): unknown;
  rotate(): Promise<unknown>;
  rewrap(): Promise<unknown>;
}

/** The services behind the security endpoints. */
export interface SecurityServices {
  auth: AuthService;
  authorizer: Authorizer;
  /** Where the audit log lives (read by `auditevents`). */
  auditDirectory: string;
  keys: KeyOperations;
}

/** API group of users, API tokens, login and logout. */
export const AUTHENTICATION_GROUP = "authentication.holdfast.io";
/** API group of the audit log. */
export const AUDIT_GROUP = "audit.holdfast.io";
/** API group of key management. */
export const KEYS_GROUP = "security.holdfast.io";
/** API group of access reviews (Kubernetes'). */
export const AUTHORIZATION_GROUP = "authorization.k8s.io";

/** 200 with a JSON body. */
export function ok(body: unknown, status = 200): Reply {
  return { status, body };
}

/** A Kubernetes `Status` of success. */
export function success(message: string): Reply {
  return ok({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", message, code: 200 });
}

/** Read a JSON body and parse it with `schema`; an empty body is `{}`. Problems name the field. */
export async function parseBody<T>(exchange: Pick<Exchange, "request" | "body">, schema: z.ZodType<T>, what: string): Promise<T> {
  const raw = (await readOptionalBody(exchange)) ?? {};
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  // Security bodies carry passwords and codes: causes name the field, never the value.
  const causes = issuesToCauses(parsed.error.issues, schema, { hideValues: true });
  throw new InputError(`invalid ${what}: ${causes.map((c) => `${c.field}: ${c.message}`).join(", ")}`, { causes });
}

async function readOptionalBody(exchange: Pick<Exchange, "request" | "body">): Promise<unknown> {
  const { request } = exchange;
  const declared = Number(request.headers["content-length"] ?? "0");
  if (declared === 0 && request.headers["transfer-encoding"] === undefined) return undefined;
  requireMediaType(request, "application/json");
  return exchange.body();
}

/** A permission checked against RBAC. */
export function rbac(attributes: RequestAttributes): Permission {
  return { verb: attributes.verb, attributes };
}

/** A permission any signed-in user has for their own account. */
export function selfService(attributes: RequestAttributes, because: string): Permission {
  return { verb: attributes.verb, attributes, allowedBecause: because };
}
