/** `holdfast audit verify`: recompute the chain, check checkpoint signatures and checkpoint.json, name the first bad record. */
import type { KeyObject } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { errorMessage } from "../../errors/index.ts";
import { GENESIS_HASH, recordHash } from "./chain.ts";
import { checkpointSignatureValid, parseCheckpoint, readCheckpointFile } from "./checkpoint.ts";
import { loadVerificationKey } from "./keys.ts";
import { LOG_FILE, readLogLines, type LogLine } from "./log-file.ts";
import { auditRecordSchema, type AuditCheckpointRecord, type AuditRecord } from "./record.ts";

/** The outcome of a verification: counts, or the first bad record (by the seq expected there and its 1-based line). */
export type VerifyResult = { ok: true; records: number; checkpoints: number } | { ok: false; seq: number; line: number; problem: string };

/** Where to verify: the audit directory and the public key (`<signingKeyFile>.pub`; a private key PEM also works). */
export interface VerifyOptions {
  directory: string;
  publicKeyFile: string;
  /**
   * A checkpoint kept where whoever can change the log cannot (a copy of checkpoint.json taken off the host): the log
   * must still hold it, unchanged. Without it, cutting the tail back to an earlier checkpoint and putting that
   * checkpoint in checkpoint.json cannot be detected.
   */
  expectCheckpointFile?: string;
}

/** A checkpoint the log must reach and agree with, and what to call it in a problem. */
interface Anchor {
  checkpoint: AuditCheckpointRecord;
  name: string;
}

type Failure = Extract<VerifyResult, { ok: false }>;

interface Scan {
  publicKey: KeyObject;
  anchors: Anchor[];
  expectedSeq: number;
  prevHash: string;
  events: number;
  checkpoints: number;
  lines: number;
}

/** Verify the log in `directory`; `records` counts events, `checkpoints` the signed checkpoints among them. */
export async function verifyAuditLog(options: VerifyOptions): Promise<VerifyResult> {
  const publicKey = await loadVerificationKey(options.publicKeyFile);
  const anchors: Anchor[] = [];
  const problem = (await loadAnchor(anchors, publicKey, "checkpoint.json", () => readCheckpointFile(options.directory))) ?? (await loadExpected(anchors, publicKey, options.expectCheckpointFile));
  if (problem !== undefined) return problem;
  const scan: Scan = { publicKey, anchors, expectedSeq: 1, prevHash: GENESIS_HASH, events: 0, checkpoints: 0, lines: 0 };
  for await (const line of readLogLines(join(options.directory, LOG_FILE))) {
    const bad = checkLine(scan, line);
    if (bad !== undefined) return { ok: false, seq: scan.expectedSeq, line: line.line, problem: bad };
    scan.expectedSeq += 1;
    scan.lines = line.line;
  }
  return finish(scan);
}

async function loadExpected(anchors: Anchor[], publicKey: KeyObject, file: string | undefined): Promise<Failure | undefined> {
  if (file === undefined) return undefined;
  const name = `the expected checkpoint (${file})`;
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    return { ok: false, seq: 0, line: 0, problem: `cannot read the expected checkpoint ${file} (${errorMessage(error)})` };
  }
  return loadAnchor(anchors, publicKey, name, () => Promise.resolve(parseCheckpoint(text)));
}

/** Check a checkpoint's signature and add it to `anchors`; a failure when it is not a valid, signed checkpoint. */
async function loadAnchor(
  anchors: Anchor[],
  publicKey: KeyObject,
  name: string,
  read: () => Promise<AuditCheckpointRecord | "invalid" | undefined>,
): Promise<Failure | undefined> {
  const checkpoint = await read();
  if (checkpoint === undefined) return undefined;
  if (checkpoint === "invalid") return { ok: false, seq: 0, line: 0, problem: `${name} is not a valid checkpoint` };
  if (!checkpointSignatureValid(checkpoint, publicKey)) {
    return { ok: false, seq: checkpoint.seq, line: 0, problem: `${name} (seq ${checkpoint.seq}) has a signature that does not verify: it was forged or edited` };
  }
  anchors.push({ checkpoint, name });
  return undefined;
}

function finish(scan: Scan): VerifyResult {
  const lastSeq = scan.expectedSeq - 1;
  for (const { checkpoint, name } of scan.anchors) {
    if (checkpoint.seq > lastSeq) {
      const problem = `the log ends at seq ${lastSeq} but ${name} covers seq ${checkpoint.seq}: records after seq ${lastSeq} were removed`;
      return { ok: false, seq: scan.expectedSeq, line: scan.lines + 1, problem };
    }
  }
  if (!scan.anchors.some((anchor) => anchor.name === "checkpoint.json") && scan.checkpoints > 0) {
    return { ok: false, seq: scan.expectedSeq, line: scan.lines + 1, problem: "checkpoint.json is missing although the log holds checkpoints: truncation cannot be ruled out" };
  }
  return { ok: true, records: scan.events, checkpoints: scan.checkpoints };
}

/** The problem with one line, or undefined when it is the next good link of the chain. */
function checkLine(scan: Scan, line: LogLine): string | undefined {
  if (!line.complete) return "the last line is incomplete (a write cut short by a crash); reopening the log moves it aside";
  const parsed = parseRecord(line.text);
  if (typeof parsed === "string") return parsed;
  const { record, raw } = parsed;
  if (record.seq !== scan.expectedSeq) {
    return `expected seq ${scan.expectedSeq} but found ${record.seq}: a record was deleted, inserted or moved here`;
  }
  if (record.prevHash !== scan.prevHash) return "prevHash does not match the hash of the record before: a record before it was removed or replaced";
  // Hashed as read, not as parsed, so nothing the parser drops or reshapes can hide an edit.
  if (recordHash(raw) !== record.hash) return "the record does not match its hash: it was edited";
  // Whatever record sits at an anchor's seq must be that checkpoint, byte for byte.
  const differing = scan.anchors.find((anchor) => anchor.checkpoint.seq === record.seq && anchor.checkpoint.hash !== record.hash);
  if (differing) return `this record differs from ${differing.name} (seq ${record.seq}): the log was rewritten after it was checkpointed`;
  const checkpointProblem = record.type === "checkpoint" ? checkCheckpoint(scan, record) : undefined;
  if (checkpointProblem !== undefined) return checkpointProblem;
  if (record.type === "checkpoint") scan.checkpoints += 1;
  else scan.events += 1;
  scan.prevHash = record.hash;
  return undefined;
}

function checkCheckpoint(scan: Scan, record: AuditCheckpointRecord): string | undefined {
  if (record.coversSeq !== record.seq - 1 || record.chainHash !== record.prevHash) {
    return "the checkpoint does not cover the record before it: the records it signed were changed";
  }
  if (!checkpointSignatureValid(record, scan.publicKey)) return "the checkpoint signature does not verify: it was forged, or the records before it rewritten";
  return undefined;
}

function parseRecord(text: string): { record: AuditRecord; raw: AuditRecord } | string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return "the line is not JSON";
  }
  const parsed = auditRecordSchema.safeParse(json);
  if (!parsed.success) return `the line is not an audit record (${parsed.error.issues[0]?.path.join(".") ?? ""}: ${parsed.error.issues[0]?.message ?? "bad format"})`;
  return { record: parsed.data, raw: json as AuditRecord };
}
