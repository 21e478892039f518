/** `holdfast audit verify`: check a home's audit log on disk, without the server. */
import { createReadStream, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { homePaths } from "../config/index.ts";
import { CliError } from "./args.ts";
import { text } from "./fields.ts";
import { auditObject, auditResource, auditTime } from "./security-tables.ts";

/** Longest part of a bad line shown when it is not a record at all. */
const SHOWN_RECORD_CHARS = 400;

/** The outcome for a home: counts and the last checkpoint's time, or the first bad record. */
export type AuditVerification =
  | { ok: true; records: number; checkpoints: number; lastCheckpointAt?: string }
  | { ok: false; seq: number; line: number; problem: string; file: string; record?: string };

/** Verify the audit log of `home` with the public key beside its signing key; `expectCheckpoint`: a checkpoint kept off the host. */
export async function verifyHomeAuditLog(home: string, expectCheckpoint?: string): Promise<AuditVerification> {
  const paths = homePaths(home);
  if (!existsSync(paths.auditDir)) {
    throw new CliError(`there is no audit log in ${paths.auditDir}: the server writes it from its first start; pass --home DIR to verify another home`);
  }
  const { AUDIT_LOG_FILE, auditPublicKeyFile, readAuditRecords, verifyAuditLog } = await import("../security/index.ts");
  const file = join(paths.auditDir, AUDIT_LOG_FILE);
  const publicKeyFile = auditPublicKeyFile(paths.auditSigningKey);
  const result = await verifyAuditLog({ directory: paths.auditDir, publicKeyFile, ...(expectCheckpoint === undefined ? {} : { expectCheckpointFile: expectCheckpoint }) });
  if (!result.ok) {
    const record = result.line > 0 ? await lineOf(file, result.line) : undefined;
    return { ...result, file, ...(record === undefined ? {} : { record }) };
  }
  let lastCheckpointAt: string | undefined;
  // Unfiltered reads include the checkpoints, in order: the last one seen is the latest.
  for await (const record of readAuditRecords({ directory: paths.auditDir })) {
    if (record.type === "checkpoint") lastCheckpointAt = record.timestamp;
  }
  return { ...result, ...(lastCheckpointAt === undefined ? {} : { lastCheckpointAt }) };
}

/** Line `number` (1-based) of `file`, summarised; undefined past the end. */
async function lineOf(file: string, number: number): Promise<string | undefined> {
  const lines = createInterface({ input: createReadStream(file, { encoding: "utf8" }), crlfDelay: Infinity });
  let current = 0;
  try {
    for await (const line of lines) {
      current += 1;
      if (current === number) return summarizeRecord(line);
    }
  } finally {
    lines.close();
  }
  return undefined;
}

/** The fields that identify a record (as they now read, edits included), or the start of a line that is not a JSON object. */
export function summarizeRecord(line: string): string {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    record = undefined;
  }
  if (typeof record !== "object" || record === null || Array.isArray(record)) {
    return line.length > SHOWN_RECORD_CHARS ? `${line.slice(0, SHOWN_RECORD_CHARS)}…` : line;
  }
  const field = (path: string): string => text(record, path, "-");
  if (field("type") === "checkpoint") return `checkpoint seq=${field("seq")} coversSeq=${field("coversSeq")} timestamp=${field("timestamp")} keyId=${field("keyId")}`;
  return (
    `seq=${field("seq")} time=${auditTime(record) || "-"} user=${field("user.username")} verb=${field("verb")} ` +
    `resource=${auditResource(record)} object=${auditObject(record)} code=${field("responseStatus.code")} auditID=${field("auditID")}`
  );
}

/** The verdict as printed: one line when the log is intact; the first bad record, where it is and what is wrong otherwise. */
export function describeVerification(result: AuditVerification): string {
  if (result.ok) {
    const last = result.lastCheckpointAt === undefined ? "no checkpoint yet" : `last checkpoint at ${result.lastCheckpointAt}`;
    return `audit log verified: ${result.records} records, ${result.checkpoints} checkpoints, ${last}\n`;
  }
  const where = result.line === 0 ? checkpointFileOf(result) : `line ${result.line} of ${result.file}`;
  const lines = [`audit log verification FAILED: first bad record at seq ${result.seq} (${where})`, `  problem: ${result.problem}`];
  if (result.record !== undefined) lines.push(`  record:  ${result.record}`);
  return `${lines.join("\n")}\n`;
}

/** The checkpoint file a problem at line 0 is about: the expected one when named in the problem, else checkpoint.json. */
function checkpointFileOf(result: Extract<AuditVerification, { ok: false }>): string {
  return result.problem.includes("expected checkpoint") ? "the expected checkpoint" : join(dirname(result.file), "checkpoint.json");
}
