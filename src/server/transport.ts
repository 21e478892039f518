/** The API server's transport: TLS versions and suites, and how long a client may take to send a request. */
import type { ServerOptions } from "node:https";

/** Headers (and the TLS handshake before them) must arrive within this many milliseconds of connecting. */
export const DEFAULT_HEADERS_TIMEOUT_MS = 15_000;
/** A whole request, body included, must arrive within this many milliseconds. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** An idle keep-alive connection is closed after this many milliseconds. */
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** Node checks the two timeouts above on an interval (30 s by default, which let a slow client hold on up to twice as long). */
const MAX_CHECK_INTERVAL_MS = 1_000;

/**
 * TLS 1.2 suites offered: ECDHE key exchange (forward secrecy) with AEAD ciphers only (AES-GCM, ChaCha20-Poly1305);
 * no CBC, no static RSA, no finite-field DHE. Both certificate types are listed so a replaced RSA certificate works too.
 */
export const TLS12_SUITES = [
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-RSA-CHACHA20-POLY1305",
] as const;
/** TLS 1.3 suites: OpenSSL's defaults, all AEAD with ephemeral key exchange; listed because `ciphers` replaces both lists. */
export const TLS13_SUITES = ["TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256"] as const;

/** The serving certificate and the client timeouts. */
export interface TransportSettings {
  tls: { key: string; cert: string };
  headersTimeoutMs?: number | undefined;
  requestTimeoutMs?: number | undefined;
}

/** Options for `https.createServer`: TLS 1.2+ with the suites above, and timeouts enforced to within a second. */
export function transportOptions(settings: TransportSettings): ServerOptions {
  const headersTimeout = settings.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
  const requestTimeout = Math.max(settings.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, headersTimeout);
  return {
    key: settings.tls.key,
    cert: settings.tls.cert,
    minVersion: "TLSv1.2",
    ciphers: [...TLS13_SUITES, ...TLS12_SUITES].join(":"),
    honorCipherOrder: true,
    // A client stuck in the handshake has not sent its headers yet: the same limit applies.
    handshakeTimeout: headersTimeout,
    headersTimeout,
    requestTimeout,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    connectionsCheckingInterval: Math.min(MAX_CHECK_INTERVAL_MS, Math.ceil(headersTimeout / 4)),
  };
}
