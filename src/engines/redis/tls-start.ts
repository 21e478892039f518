/**
 * How a Redis client starts TLS: with the TLS handshake at once (`redis-cli --tls`); there is nothing to send before
 * it. A plaintext client starts with a command; it gets a RESP error (`-ERR …`), which redis-cli prints.
 */
import type { ClientTlsStart } from "../types.ts";

/** A RESP simple error line: `-ERR <message>` (CR and LF in the message replaced, as a simple string cannot hold them). */
export function redisErrorReply(message: string): Uint8Array {
  return Buffer.from(`-ERR ${message.replace(/[\r\n]+/g, " ")}\r\n`, "utf8");
}

export const REDIS_TLS_START: ClientTlsStart = { preambles: [], refusal: redisErrorReply };
