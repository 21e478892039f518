/**
 * Recovery codes: ten single-use codes that stand in for a TOTP code when the authenticator is lost.
 *
 * Each code is 16 base32 characters (80 bits from the CSPRNG), shown as `xxxx-xxxx-xxxx-xxxx`. Only a SHA-256 is
 * stored. A slow hash like argon2 is for guessable secrets; 80 random bits cannot be enumerated even offline, so
 * SHA-256 keeps verification cheap without weakening anything. The username is hashed in too, so equal hashes in
 * two users' rows would not reveal a shared code.
 */
import { createHash, randomBytes } from "node:crypto";
import { base32Encode } from "./base32.ts";

/** How many recovery codes a user holds after enrolment or an MFA reset. */
export const RECOVERY_CODE_COUNT = 10;
const CODE_BYTES = 10;

/** New recovery codes, formatted for display. */
export function generateRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const text = base32Encode(randomBytes(CODE_BYTES), false).toLowerCase();
    return text.match(/.{4}/g)?.join("-") ?? text;
  });
}

/** The stored hash of a code as typed: case, spaces and hyphens do not matter. */
export function hashRecoveryCode(username: string, code: string): Buffer {
  const normalized = code.toLowerCase().replace(/[\s-]+/g, "");
  return createHash("sha256").update(`holdfast-recovery-code\0${username}\0${normalized}`, "utf8").digest();
}
