/**
 * The gate of an endpoint that forwards TLS connections only (an exposed endpoint): a new connection is forwarded when
 * its first bytes start a TLS handshake — a TLS handshake record at once, or a message the protocol sends before it
 * (PostgreSQL's SSLRequest) — and is answered with the protocol's error and closed otherwise. Plaintext therefore
 * never reaches the database, whatever the database itself would accept from the node's own address (pure).
 */

/** How a client of a protocol starts TLS on a new connection (given by the engine). */
export interface TlsStart {
  /** Exact messages a client may send before its TLS handshake, e.g. PostgreSQL's SSLRequest. */
  preambles: readonly Uint8Array[];
  /** What a client that starts in plaintext is sent before the connection is closed: the protocol's error carrying `message`. */
  refusal(message: string): Uint8Array;
}

/** The first byte of a TLS handshake record (RFC 8446, 5.1: ContentType handshake). */
const TLS_HANDSHAKE_RECORD = 0x16;

/** The verdict on the first bytes of a connection: `tls`, `plaintext`, or `more` bytes needed to tell. */
export type TlsVerdict = "tls" | "plaintext" | "more";

/** Does `seen` start a TLS handshake as `start` allows? */
export function tlsVerdict(seen: Uint8Array, start: Pick<TlsStart, "preambles">): TlsVerdict {
  if (seen.length === 0) return "more";
  if (seen[0] === TLS_HANDSHAKE_RECORD) return "tls";
  let undecided = false;
  for (const preamble of start.preambles) {
    const length = Math.min(seen.length, preamble.length);
    if (!sameBytes(seen.subarray(0, length), preamble.subarray(0, length))) continue;
    if (seen.length >= preamble.length) return "tls";
    undecided = true;
  }
  return undecided ? "more" : "plaintext";
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
