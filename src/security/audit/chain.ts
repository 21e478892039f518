/** The hash chain: each record's hash covers the previous hash and the record's own canonical JSON. */
import { createHash } from "node:crypto";
import { canonicalJson } from "./canonical-json.ts";
import type { AuditRecord } from "./record.ts";

/** The prevHash of the first record. */
export const GENESIS_HASH = "0".repeat(64);

/** sha256(prevHash + canonical JSON of the record without `hash`). */
export function recordHash(record: Omit<AuditRecord, "hash"> | AuditRecord): string {
  const { hash: _ignored, ...rest } = record as AuditRecord;
  return hashOf(rest.prevHash, canonicalJson(rest));
}

/** Add the hash to a record whose seq and prevHash are set. */
export function sealRecord<T extends Omit<AuditRecord, "hash">>(draft: T): T & { hash: string } {
  return sealRecordWithLine(draft).record;
}

/** The sealed record and its line for `audit.log`, serialized once: the line is the hashed JSON with `hash` put first. */
export function sealRecordWithLine<T extends Omit<AuditRecord, "hash">>(draft: T): { record: T & { hash: string }; line: string } {
  const body = canonicalJson(draft);
  const hash = hashOf(draft.prevHash, body);
  return { record: { ...draft, hash }, line: `{"hash":"${hash}",${body.slice(1)}\n` };
}

function hashOf(prevHash: string, canonicalBody: string): string {
  return createHash("sha256").update(prevHash, "utf8").update(canonicalBody, "utf8").digest("hex");
}
