/** Redaction: values under credential-like keys become keyed hashes, linkable across records but not readable. */
import { createHmac } from "node:crypto";

/** Prefix of a redacted value. */
export const REDACTED_PREFIX = "hmac-sha256:";

/** Keys whose whole subtree is redacted, matched case-insensitively as a part of the key (`newPassword`, `accessToken`). */
const SENSITIVE_KEY_PARTS = ["password", "token", "secret", "totp", "recoverycode", "authorization", "passphrase", "privatekey"];
/** Keys redacted only when they are the whole key: `data` would otherwise also match `metadata`. */
const SENSITIVE_KEYS = new Set(["data", "stringdata"]);
/** Request bodies are shallow; deeper nesting is cut rather than walked without bound. */
const MAX_DEPTH = 64;
const ALREADY_REDACTED = /^hmac-sha256:[0-9a-f]{64}$/;

/** Whether a property name marks a value as secret. */
export function isSensitiveKey(key: string): boolean {
  const lower = key.toLowerCase();
  return SENSITIVE_KEYS.has(lower) || SENSITIVE_KEY_PARTS.some((part) => lower.includes(part));
}

/**
 * A copy of `value` in which every string or number under a sensitive key (at any depth below it) is replaced by
 * `hmac(value)` (see {@link keyedHmac}: `hmac-sha256:<hex>`); booleans and null are kept, the rest is copied as is.
 */
export function redact(value: unknown, hmac: (value: string) => string): unknown {
  return walk(value, false, 0, hmac);
}

function walk(value: unknown, sensitive: boolean, depth: number, hmac: (value: string) => string): unknown {
  if (depth > MAX_DEPTH) return "[truncated: nested too deep]";
  if (Array.isArray(value)) return value.map((item: unknown) => walk(item, sensitive, depth + 1, hmac));
  if (value !== null && typeof value === "object") {
    const copy: Record<string, unknown> = {};
    for (const [key, member] of Object.entries(value as Record<string, unknown>)) {
      copy[key] = walk(member, sensitive || isSensitiveKey(key), depth + 1, hmac);
    }
    return copy;
  }
  if (!sensitive) return value;
  if (typeof value === "string") return ALREADY_REDACTED.test(value) ? value : hmac(value);
  if (typeof value === "number" || typeof value === "bigint") return hmac(String(value));
  return value;
}

/** `value => "hmac-sha256:<hex>"` under `key`: equal values give equal results, which only the key holder can compute. */
export function keyedHmac(key: Buffer): (value: string) => string {
  return (value) => `${REDACTED_PREFIX}${createHmac("sha256", key).update(value, "utf8").digest("hex")}`;
}
