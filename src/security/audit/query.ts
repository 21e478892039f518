/** `holdfast audit list` / `export`: stream the records of the log, filtered. */
import { join } from "node:path";
import { UnavailableError } from "../../errors/index.ts";
import { LOG_FILE, readLogLines } from "./log-file.ts";
import { auditRecordSchema, type AuditRecord } from "./record.ts";

/** Which records to read; every filter given must match. Checkpoints are included only when no filter is given. */
export interface AuditQuery {
  directory: string;
  /** Exact user name. */
  user?: string;
  /** Exact verb, e.g. `delete`. */
  verb?: string;
  /** Exact resource (plural), e.g. `clusters`. */
  resource?: string;
  /** Only events whose request was received at or after this time. */
  since?: Date;
}

/** Records of the log in order, as JSON lines `holdfast audit export` can write back out. */
export async function* readAuditRecords(query: AuditQuery): AsyncGenerator<AuditRecord> {
  const filtered = query.user !== undefined || query.verb !== undefined || query.resource !== undefined || query.since !== undefined;
  for await (const line of readLogLines(join(query.directory, LOG_FILE))) {
    // A torn last line was never acknowledged; it is moved aside on the next open.
    if (!line.complete) return;
    const record = parseLine(line.text, line.line);
    if (record.type === "checkpoint" ? !filtered : matches(record, query)) yield record;
  }
}

function matches(record: Extract<AuditRecord, { type: "event" }>, query: AuditQuery): boolean {
  if (query.user !== undefined && record.user.username !== query.user) return false;
  if (query.verb !== undefined && record.verb !== query.verb) return false;
  if (query.resource !== undefined && record.objectRef?.resource !== query.resource) return false;
  return query.since === undefined || Date.parse(record.requestReceivedTimestamp) >= query.since.getTime();
}

function parseLine(text: string, line: number): AuditRecord {
  try {
    return auditRecordSchema.parse(JSON.parse(text));
  } catch (error) {
    throw new UnavailableError(`line ${line} of the audit log is not a valid record; run \`holdfast audit verify\``, { cause: error });
  }
}
