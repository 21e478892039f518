/**
 * When a running instance's certificate is issued again and reloaded (pure): the names it must carry changed (a node
 * joined), it is about to expire, or what the running server loaded is unknown (this node agent just started).
 */

/** What the running server was last made to load: the names, and when that certificate expires (ms since the epoch). */
export interface ServedCertificate {
  names: string;
  validTo: number;
}

/** Why a certificate is renewed now. */
export type RenewalReason = "names" | "expiry" | "unknown";

/** Why the running server's certificate must be issued again and reloaded, or undefined when it serves on as it is. */
export function renewalDue(served: ServedCertificate | undefined, wanted: readonly string[], now: Date, renewBeforeMs: number): RenewalReason | undefined {
  if (served === undefined) return "unknown";
  if (served.names !== wanted.join(",")) return "names";
  if (served.validTo - now.getTime() < renewBeforeMs) return "expiry";
  return undefined;
}
