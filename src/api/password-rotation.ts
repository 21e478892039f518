/**
 * Online rotation of a cluster's system-account passwords (ADR 0038): what the account Secrets and the Instances
 * carry while a rotation is under way. The Secret holds the password in effect (`password`, generation G) and, during
 * a rotation, the next one (`nextPassword`, generation G+1); node agents confirm in Instance status, by generation
 * only, that an instance accepts the next one; the cluster controller then makes it the password in effect.
 */
import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { Secret } from "./core.ts";

/** Cluster annotation asking for a rotation: JSON `{"id": "...", "accounts": ["postgres"]}` (no accounts: all of them). */
export const ROTATE_PASSWORDS_ANNOTATION = "holdfast.io/rotate-passwords";
/** Secret annotation: the generation of `data.password` (absent: 0, the password the Secret was created with). */
export const PASSWORD_GENERATION_ANNOTATION = "holdfast.io/password-generation";
/** Secret annotation: the rotation request (its id) the Secret's latest rotation answers. */
export const ROTATION_REQUEST_ANNOTATION = "holdfast.io/password-rotation-request";
/** Secret annotation: the generation the request in ROTATION_REQUEST_ANNOTATION rotates to (refused: absent). */
export const ROTATION_GENERATION_ANNOTATION = "holdfast.io/password-rotation-generation";
/**
 * Secret annotation, for engines whose servers hold the previous password beside the next (Redis): present from the
 * moment the next password takes effect until every instance accepts it alone; the rotation is finished only then.
 */
export const PREVIOUS_PASSWORD_ANNOTATION = "holdfast.io/previous-password-held";
/** Secret data key of the next password, present only while a rotation is under way. */
export const NEXT_PASSWORD_KEY = "nextPassword";

/** A rotation request as the cluster annotation holds it. */
export const rotationRequestSchema = z.strictObject({
  id: z.string().min(1).max(64).regex(/^[A-Za-z0-9._:-]+$/, "letters, digits, '.', '_', ':' and '-'"),
  accounts: z.array(z.string().min(1).max(63)).optional(),
});
export type RotationRequest = z.infer<typeof rotationRequestSchema>;

/**
 * What one instance says of one account's password, by generation only (never the value): the generation it accepts;
 * for engines that hold two passwords at once (Redis ACL users, ADR 0038 "Since"), the generation its own connections
 * log in with (`connectsWith`) and the generation it accepts alone, the previous one removed (`alone`).
 */
export const instancePasswordStatusSchema = z.object({ generation: z.int().min(0), connectsWith: z.int().min(0).optional(), alone: z.int().min(0).optional() });
export type InstancePasswordStatus = z.infer<typeof instancePasswordStatusSchema>;

/** The generation of the password in effect in an account Secret. */
export function passwordGeneration(secret: Pick<Secret, "metadata">): number {
  const raw = secret.metadata.annotations?.[PASSWORD_GENERATION_ANNOTATION];
  const parsed = raw === undefined ? 0 : Number.parseInt(raw, 10);
  return Number.isSafeInteger(parsed) && parsed >= 0 ? parsed : 0;
}

/** The password a Secret field holds, decoded; undefined when absent. */
export function secretValue(secret: Pick<Secret, "data"> | undefined, key: string): string | undefined {
  const encoded = secret?.data?.[key];
  return encoded === undefined ? undefined : Buffer.from(encoded, "base64").toString("utf8");
}

/** The rotation under way in an account Secret: the next password and its generation; undefined when none is. */
export function pendingPassword(secret: Pick<Secret, "metadata" | "data">): { generation: number; password: string } | undefined {
  const password = secretValue(secret, NEXT_PASSWORD_KEY);
  return password === undefined ? undefined : { generation: passwordGeneration(secret) + 1, password };
}

/** The cluster's rotation request, or undefined when there is none or it is malformed (admission refuses those). */
export function rotationRequestOf(annotations: Record<string, string> | undefined): RotationRequest | undefined {
  const raw = annotations?.[ROTATE_PASSWORDS_ANNOTATION];
  if (raw === undefined) return undefined;
  try {
    const parsed = rotationRequestSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** A new rotation request for `accounts` (all of the cluster's when undefined), as the cluster annotation's value. */
export function newRotationRequest(accounts?: readonly string[]): RotationRequest {
  return { id: `${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`, ...(accounts === undefined ? {} : { accounts: [...accounts] }) };
}

/** Where a request stands, from the account Secrets of its cluster (pure): finished, and which accounts rotated or not. */
export function rotationProgress(request: RotationRequest, secrets: readonly Pick<Secret, "metadata" | "data">[], accountLabel: string): { finished: boolean; rotated: string[]; notRotated: string[] } {
  const selected = secrets.filter((s) => {
    const account = s.metadata.labels?.[accountLabel];
    return account !== undefined && (request.accounts === undefined || request.accounts.includes(account));
  });
  const answered = selected.filter((s) => s.metadata.annotations?.[ROTATION_REQUEST_ANNOTATION] === request.id && pendingPassword(s) === undefined && s.metadata.annotations[PREVIOUS_PASSWORD_ANNOTATION] === undefined);
  const names = (list: typeof selected): string[] => list.map((s) => s.metadata.name);
  const rotated = answered.filter((s) => s.metadata.annotations?.[PASSWORD_GENERATION_ANNOTATION] !== undefined && s.metadata.annotations[ROTATION_GENERATION_ANNOTATION] === s.metadata.annotations[PASSWORD_GENERATION_ANNOTATION]);
  return { finished: selected.length > 0 && answered.length === selected.length, rotated: names(rotated), notRotated: names(answered.filter((s) => !rotated.includes(s))) };
}
