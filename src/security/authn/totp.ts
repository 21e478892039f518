/** TOTP (RFC 6238) over HOTP (RFC 4226): HMAC-SHA-1, 30-second steps, 6 digits, one step of clock skew either way. */
import { createHmac, timingSafeEqual } from "node:crypto";
import { base32Encode } from "./base32.ts";

/** The TOTP parameters Holdfast issues; authenticator apps assume exactly these when the URI omits them. */
export const TOTP_STEP_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** Steps accepted before and after the current one, for clocks that drift or a code typed at a step boundary. */
export const TOTP_SKEW_STEPS = 1;

/** HOTP value of `secret` at `counter` (RFC 4226 section 5.3), zero-padded to `digits`. */
export function hotp(secret: Uint8Array, counter: number, digits: number = TOTP_DIGITS): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac("sha1", secret).update(message).digest();
  const offset = (mac[mac.length - 1] ?? 0) & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, "0");
}

/** The time step (T in RFC 6238) that `unixMillis` falls in. */
export function totpStep(unixMillis: number): number {
  return Math.floor(unixMillis / 1000 / TOTP_STEP_SECONDS);
}

/** The TOTP code at `unixMillis`. */
export function totpAt(secret: Uint8Array, unixMillis: number, digits: number = TOTP_DIGITS): string {
  return hotp(secret, totpStep(unixMillis), digits);
}

/**
 * The time step whose code equals `code` within the accepted skew, or undefined. Every candidate is compared in
 * constant time and none is skipped, so timing does not say which step matched.
 */
export function matchTotp(secret: Uint8Array, code: string, unixMillis: number): number | undefined {
  const given = Buffer.from(code.replace(/\s+/g, ""), "utf8");
  const current = totpStep(unixMillis);
  let matched: number | undefined;
  for (let step = current - TOTP_SKEW_STEPS; step <= current + TOTP_SKEW_STEPS; step++) {
    const expected = Buffer.from(hotp(secret, step), "utf8");
    const equal = expected.length === given.length && timingSafeEqual(expected, given);
    if (equal && matched === undefined) matched = step;
  }
  return matched;
}

/** The `otpauth://` URI authenticator apps import (Key Uri Format), naming the issuer and the account. */
export function otpauthUri(secret: Uint8Array, issuer: string, account: string): string {
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(account)}`;
  const query = new URLSearchParams({
    secret: base32Encode(secret, false),
    issuer,
    algorithm: "SHA1",
    digits: String(TOTP_DIGITS),
    period: String(TOTP_STEP_SECONDS),
  });
  return `otpauth://totp/${label}?${query.toString()}`;
}
