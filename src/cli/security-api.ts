/** The security API as the CLI reads it: paths, and the shapes of the answers, checked before anything is printed. */
import { z } from "zod";
import { CliError } from "./args.ts";

/** Users, API tokens, login and whoami. */
export const AUTHENTICATION_API = "/apis/authentication.holdfast.io/v1alpha1";
/** Audit events. */
export const AUDIT_API = "/apis/audit.holdfast.io/v1alpha1";
/** Access reviews. */
export const AUTHORIZATION_API = "/apis/authorization.k8s.io/v1";

/** The path of one user, or of one of its actions (`disable`, `password`, ...). */
export function userPath(username: string, action?: string): string {
  const base = `${AUTHENTICATION_API}/users/${encodeURIComponent(username)}`;
  return action === undefined ? base : `${base}/${action}`;
}

/** A user as listed: never secrets. */
export const userSummarySchema = z.looseObject({
  username: z.string(),
  groups: z.array(z.string()).default([]),
  disabled: z.boolean(),
  createdAt: z.string(),
  lastLoginAt: z.string().optional(),
  mfaEnrolled: z.boolean(),
});
/** See {@link userSummarySchema}. */
export type UserSummary = z.infer<typeof userSummarySchema>;

/** A new TOTP seed and recovery codes (shown once). */
export const mfaSecretsSchema = z.looseObject({
  username: z.string(),
  totpSecret: z.string(),
  otpauthUri: z.string(),
  recoveryCodes: z.array(z.string()),
});
/** See {@link mfaSecretsSchema}. */
export type MfaSecrets = z.infer<typeof mfaSecretsSchema>;

/** A new user: password, TOTP seed and recovery codes (shown once). */
export const newUserSchema = mfaSecretsSchema.extend({ password: z.string() });

/** The answer to a password change: the password only when the server generated it. */
export const passwordAnswerSchema = z.looseObject({ username: z.string(), password: z.string().optional() });

/** An API token as listed: never the token itself. */
export const tokenSummarySchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  username: z.string(),
  createdAt: z.string(),
  expiresAt: z.string(),
  lastUsedAt: z.string().optional(),
  revoked: z.boolean(),
});
/** See {@link tokenSummarySchema}. */
export type TokenSummary = z.infer<typeof tokenSummarySchema>;

/** A new API token (the bearer shown once). */
export const newTokenSchema = z.looseObject({ id: z.string(), name: z.string(), token: z.string(), expiresAt: z.string(), username: z.string().optional() });

/** Who the server takes the caller for. */
export const whoamiSchema = z.looseObject({ username: z.string(), groups: z.array(z.string()).default([]), via: z.string().optional() });

/** An audit record as the CLI prints it: an object whose fields are read defensively (see fields.ts). */
export const auditRecordsSchema = z.looseObject({ items: z.array(z.record(z.string(), z.unknown())) });

/** A list answer `{items: [...]}`. */
export function listOf<T extends z.ZodType>(item: T) {
  return z.looseObject({ items: z.array(item) });
}

/** Parse an answer of the server, or fail saying which field is off (client and server of different versions). */
export function parseAnswer<T extends z.ZodType>(schema: T, answer: unknown, what: string): z.infer<T> {
  const parsed = schema.safeParse(answer);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue === undefined ? "" : ` (${issue.path.join(".") || "body"}: ${issue.message})`;
  throw new CliError(`the server's answer to ${what} is not what this CLI expects${where}; are the client and the server the same version?`);
}
