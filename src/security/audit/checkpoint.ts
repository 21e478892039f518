/** Signed checkpoints: in the chain, and the latest one also in `checkpoint.json` so truncation is detectable. */
import { sign, verify, type KeyObject } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { sealRecord } from "./chain.ts";
import { isErrorCode, writeFileAtomically } from "./files.ts";
import { auditCheckpointRecordSchema, type AuditCheckpointRecord } from "./record.ts";

/** The file holding the latest checkpoint, beside `audit.log`. */
export const CHECKPOINT_FILE = "checkpoint.json";

/** The bytes a checkpoint signature covers. */
export function checkpointPayload(seq: number, coversSeq: number, chainHash: string): Buffer {
  return Buffer.from(`${seq}|${coversSeq}|${chainHash}`, "utf8");
}

/** A sealed checkpoint record at `seq`, covering the record before it whose hash is `chainHash`. */
export function makeCheckpoint(seq: number, chainHash: string, key: { signingKey: KeyObject; keyId: string }): AuditCheckpointRecord {
  const coversSeq = seq - 1;
  const signature = sign(null, checkpointPayload(seq, coversSeq, chainHash), key.signingKey).toString("base64");
  const draft = { type: "checkpoint" as const, seq, coversSeq, chainHash, signature, keyId: key.keyId, timestamp: new Date().toISOString(), prevHash: chainHash };
  return sealRecord(draft);
}

/** Whether the checkpoint's signature verifies under `publicKey`. */
export function checkpointSignatureValid(checkpoint: AuditCheckpointRecord, publicKey: KeyObject): boolean {
  try {
    const payload = checkpointPayload(checkpoint.seq, checkpoint.coversSeq, checkpoint.chainHash);
    return verify(null, payload, publicKey, Buffer.from(checkpoint.signature, "base64"));
  } catch {
    return false;
  }
}

/** Replace `checkpoint.json` atomically. */
export async function writeCheckpointFile(directory: string, checkpoint: AuditCheckpointRecord): Promise<void> {
  await writeFileAtomically(join(directory, CHECKPOINT_FILE), `${JSON.stringify(checkpoint)}\n`, { mode: 0o600, exclusive: false });
}

/** The latest checkpoint; undefined when none was written yet; "invalid" when the file is not a checkpoint. */
export async function readCheckpointFile(directory: string): Promise<AuditCheckpointRecord | "invalid" | undefined> {
  let text: string;
  try {
    text = await readFile(join(directory, CHECKPOINT_FILE), "utf8");
  } catch (error) {
    if (isErrorCode(error, "ENOENT")) return undefined;
    throw error;
  }
  return parseCheckpoint(text);
}

/** A checkpoint from its JSON (a copy of checkpoint.json, or a checkpoint line of the log), or "invalid". */
export function parseCheckpoint(text: string): AuditCheckpointRecord | "invalid" {
  try {
    const parsed = auditCheckpointRecordSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : "invalid";
  } catch {
    return "invalid";
  }
}
