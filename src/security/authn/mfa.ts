/** Issuing second factors: a TOTP seed (kept encrypted) and recovery codes (kept as hashes). */
import { randomBytes } from "node:crypto";
import { base32Encode } from "./base32.ts";
import { totpAssociatedData, type AuthContext } from "./context.ts";
import { generateRecoveryCodes, hashRecoveryCode } from "./recovery-codes.ts";
import { matchTotp, otpauthUri } from "./totp.ts";

// RFC 4226 section 4 recommends a 160-bit shared secret, the size of an HMAC-SHA-1 output.
const TOTP_SECRET_BYTES = 20;

/** Second-factor secrets, shown once to the user. */
export interface MfaSecrets {
  /** TOTP seed in base32, for typing into an authenticator app. */
  totpSecret: string;
  /** `otpauth://` URI for a QR code. */
  otpauthUri: string;
  /** Single-use codes usable instead of a TOTP code. */
  recoveryCodes: string[];
}

/** Secrets to show, and what to store. */
export interface IssuedMfa {
  shown: MfaSecrets;
  totpCiphertext: string;
  recoveryCodeHashes: Buffer[];
}

/** New TOTP seed and recovery codes for `username`. */
export function issueMfa(ctx: AuthContext, username: string): IssuedMfa {
  const seed = randomBytes(TOTP_SECRET_BYTES);
  const recoveryCodes = generateRecoveryCodes();
  const issued: IssuedMfa = {
    shown: { totpSecret: base32Encode(seed, false), otpauthUri: otpauthUri(seed, ctx.issuer, username), recoveryCodes },
    totpCiphertext: ctx.keyring.encrypt(seed, totpAssociatedData(username)),
    recoveryCodeHashes: recoveryCodes.map((code) => hashRecoveryCode(username, code)),
  };
  seed.fill(0);
  return issued;
}

/** The time step `code` matches for the stored seed, or undefined; the decrypted seed is wiped after use. */
export function matchStoredTotp(ctx: AuthContext, username: string, totpCiphertext: string, code: string): number | undefined {
  const seed = ctx.keyring.decrypt(totpCiphertext, totpAssociatedData(username));
  try {
    return matchTotp(seed, code, ctx.now());
  } finally {
    seed.fill(0);
  }
}
