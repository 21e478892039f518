/**
 * Webhook deliveries signed as Standard Webhooks does: `webhook-id`, `webhook-timestamp` and
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, the key being the bytes after `whsec_`
 * (base64) or, for a secret without that prefix, its UTF-8 bytes.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { InvalidError } from "../errors/index.ts";

const SECRET_PREFIX = "whsec_";

/** The HMAC key of a signing secret. */
export function signingKeyOf(secret: string): Buffer {
  return secret.startsWith(SECRET_PREFIX) ? Buffer.from(secret.slice(SECRET_PREFIX.length), "base64") : Buffer.from(secret, "utf8");
}

/** The `webhook-signature` header value for one message. */
export function signWebhook(key: Buffer, id: string, timestamp: number, body: string): string {
  return `v1,${createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64")}`;
}

/** Whether any `v1,` signature of a `webhook-signature` header matches (constant-time), as a receiver checks it. */
export function verifyWebhook(key: Buffer, headers: { id: string; timestamp: string; signature: string }, body: string): boolean {
  const expected = Buffer.from(signWebhook(key, headers.id, Number(headers.timestamp), body).slice(3), "base64");
  return headers.signature.split(" ").some((part) => {
    if (!part.startsWith("v1,")) return false;
    const given = Buffer.from(part.slice(3), "base64");
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

/**
 * A webhook URL Holdfast will call: https anywhere, or http only to a loopback address (tests, a local relay); no
 * credentials in it (they would be logged and shown), no fragment.
 */
export function webhookUrlProblem(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "must be an absolute URL such as https://hooks.example.com/holdfast";
  }
  if (url.username !== "" || url.password !== "") return "must not carry credentials; the signature authenticates the sender";
  if (url.hash !== "") return "must not have a fragment";
  if (url.protocol === "https:") return undefined;
  if (url.protocol === "http:" && isLoopback(url.hostname)) return undefined;
  return "must be https, or http to a loopback address (127.0.0.0/8, [::1], localhost)";
}

/** Throw InvalidError when `raw` is not a URL Holdfast calls. */
export function assertWebhookUrl(raw: string, field: string): URL {
  const problem = webhookUrlProblem(raw);
  if (problem !== undefined) throw new InvalidError(`${field} ${problem}`, { causes: [{ field, message: problem }] });
  return new URL(raw);
}

function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}
