/** Resuming the chain on open: check the tail record and checkpoint.json, and move a torn last line aside. */
import type { KeyObject } from "node:crypto";
import { join } from "node:path";
import { UnavailableError } from "../../errors/index.ts";
import { GENESIS_HASH, recordHash } from "./chain.ts";
import { checkpointSignatureValid, readCheckpointFile } from "./checkpoint.ts";
import { writeFileAtomically } from "./files.ts";
import { LOG_FILE, readLogTail, type LogTail } from "./log-file.ts";
import { auditRecordSchema, type AuditRecord } from "./record.ts";

/** Where the chain continues. */
export interface ChainHead {
  /** The seq of the last record (0 for an empty log). */
  lastSeq: number;
  lastHash: string;
  /** Whether the last record is an event not yet covered by a checkpoint. */
  uncovered: boolean;
  /** Size of the log once a torn last line is moved aside. */
  size: number;
  /** The torn bytes to move aside before appending, if any. */
  torn: Buffer;
}

const VERIFY_HINT = "run `holdfast audit verify` to find the damage, and keep a copy of the directory as evidence";

/** Read and check the end of the log in `directory` (a checkpoint at the end must verify under `publicKey`). */
export async function findChainHead(directory: string, publicKey: KeyObject): Promise<ChainHead> {
  const tail = await readLogTail(join(directory, LOG_FILE));
  const last = parseTail(tail);
  if (last?.type === "checkpoint" && !checkpointSignatureValid(last, publicKey)) {
    throw new UnavailableError(`the last checkpoint of the audit log (seq ${last.seq}) does not verify under this signing key; ${VERIFY_HINT}`);
  }
  const head: ChainHead = {
    lastSeq: last?.seq ?? 0,
    lastHash: last?.hash ?? GENESIS_HASH,
    uncovered: last?.type === "event",
    size: tail.completeSize,
    torn: tail.partial,
  };
  await checkAgainstCheckpointFile(directory, head);
  return head;
}

/**
 * A torn last line is a batch that was being written when the machine stopped: no append of it had resolved, so no
 * response relied on it. It is kept in `audit.log.torn-<offset>` rather than deleted (evidence), and the log is cut
 * back to its last complete record so the API can keep serving; verify still checks every complete record.
 */
export async function moveTornLineAside(directory: string, head: ChainHead): Promise<string | undefined> {
  if (head.torn.length === 0) return undefined;
  const path = join(directory, `${LOG_FILE}.torn-${head.size}-${Date.now()}`);
  await writeFileAtomically(path, head.torn, { mode: 0o600, exclusive: true });
  return path;
}

function parseTail(tail: LogTail): AuditRecord | undefined {
  if (tail.lastLine === undefined) return undefined;
  let record: AuditRecord;
  try {
    record = auditRecordSchema.parse(JSON.parse(tail.lastLine));
  } catch (error) {
    throw new UnavailableError(`the last record of the audit log is not a valid record; ${VERIFY_HINT}`, { cause: error });
  }
  if (recordHash(record) !== record.hash) {
    throw new UnavailableError(`the last record of the audit log (seq ${record.seq}) does not match its hash; ${VERIFY_HINT}`);
  }
  return record;
}

async function checkAgainstCheckpointFile(directory: string, head: ChainHead): Promise<void> {
  const checkpoint = await readCheckpointFile(directory);
  if (checkpoint === undefined) return;
  if (checkpoint === "invalid") throw new UnavailableError(`checkpoint.json in ${directory} is not a valid checkpoint; ${VERIFY_HINT}`);
  if (checkpoint.seq > head.lastSeq) {
    throw new UnavailableError(`the audit log ends at seq ${head.lastSeq} but checkpoint.json covers seq ${checkpoint.seq}: records were removed; ${VERIFY_HINT}`);
  }
  if (checkpoint.seq === head.lastSeq && checkpoint.hash !== head.lastHash) {
    throw new UnavailableError(`the last record of the audit log differs from checkpoint.json (seq ${checkpoint.seq}); ${VERIFY_HINT}`);
  }
}
