/**
 * The name an instance goes by in replication: its physical slot on the primary and the
 * `application_name` its WAL receiver reports (what `synchronous_standby_names` and
 * `pg_stat_replication` use). One name for both keeps slots, lag rows and quorum members aligned.
 */
import { createHash } from "node:crypto";

/** PostgreSQL's NAMEDATALEN - 1: the longest slot name. */
const MAX_LENGTH = 63;
const HASH_LENGTH = 8;

/**
 * A slot name for `instanceName`: lower-case letters, digits and `_` only (a slot name's alphabet).
 * Kubernetes-style names map losslessly (`-` → `_`); anything else, or a name too long, gets a short
 * hash of the original appended so two instances never share a slot.
 */
export function replicationName(instanceName: string): string {
  const lowered = instanceName.toLowerCase();
  const simple = lowered.replaceAll("-", "_");
  const lossless = lowered === instanceName && /^[a-z0-9_]+$/.test(simple) && !instanceName.includes("_") && simple.length <= MAX_LENGTH;
  if (lossless) return simple;
  const hash = createHash("sha256").update(instanceName, "utf8").digest("hex").slice(0, HASH_LENGTH);
  const base = lowered.replaceAll(/[^a-z0-9_]/g, "_").slice(0, MAX_LENGTH - HASH_LENGTH - 1);
  return `${base}_${hash}`;
}
