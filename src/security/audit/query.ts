/** `holdfast audit list` / `export`: stream the records of the log, filtered. */
import { join } from "node:path";
import { UnavailableError } from "../../errors/index.ts";
import { LOG_FILE, readLogLines, readLogLinesBackward, type ReadCounter } from "./log-file.ts";
import { auditRecordSchema, type AuditEventRecord, type AuditRecord } from "./record.ts";

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
    const record = parseLine(line.text, `line ${line.line}`);
    if (record.type === "checkpoint" ? !filtered : matches(record, query)) yield record;
  }
}

/**
 * How far a record's append time may run behind the one before it (a wall clock stepped back) and still be found by
 * a `since` query that reads backwards; older steps can hide events from such a query, never from verify or export.
 */
export const CLOCK_STEP_TOLERANCE_MS = 5 * 60_000;

/** The newest events matching a query, and how many bytes of the log were read to find them. */
export interface NewestAuditEvents {
  /** Oldest first. */
  events: AuditEventRecord[];
  bytesRead: number;
}

/**
 * The newest `limit` events matching `query`, found by reading the log from its end: the cost grows with how far
 * back the answer lies (the limit, or `since`), not with the size of the log. Records are appended in time order, so
 * once records are older than `since` (less the clock tolerance) nothing earlier can match.
 */
export async function readNewestAuditEvents(query: AuditQuery, limit: number): Promise<NewestAuditEvents> {
  const counter: ReadCounter = { bytesRead: 0 };
  const newestFirst: AuditEventRecord[] = [];
  const stopBefore = query.since === undefined ? undefined : query.since.getTime() - CLOCK_STEP_TOLERANCE_MS;
  for await (const line of readLogLinesBackward(join(query.directory, LOG_FILE), counter)) {
    if (newestFirst.length >= limit) break;
    const where = `the line at byte ${line.offset}`;
    // Filter on the raw JSON first: only the records returned pay for full validation.
    const raw = parseJson(line.text, where);
    if (stopBefore !== undefined && Date.parse(appendedAt(raw)) < stopBefore) break;
    if (raw["type"] !== "event" || !matches(raw, query)) continue;
    const record = validate(raw, where);
    if (record.type === "event") newestFirst.push(record);
  }
  return { events: newestFirst.reverse(), bytesRead: counter.bytesRead };
}

/** When the record was appended (an event's stageTimestamp, a checkpoint's timestamp); "" when it has neither. */
function appendedAt(raw: Record<string, unknown>): string {
  const at = raw["type"] === "checkpoint" ? raw["timestamp"] : raw["stageTimestamp"];
  return typeof at === "string" ? at : "";
}

/** The fields filters look at, as they may be in JSON not yet validated. */
interface Filterable {
  user?: { username?: unknown };
  verb?: unknown;
  objectRef?: { resource?: unknown } | undefined;
  requestReceivedTimestamp?: unknown;
}

/** Whether the event matches; safe on raw JSON (a missing or mistyped field simply does not match). */
function matches(record: Filterable, query: AuditQuery): boolean {
  if (query.user !== undefined && record.user?.username !== query.user) return false;
  if (query.verb !== undefined && record.verb !== query.verb) return false;
  if (query.resource !== undefined && record.objectRef?.resource !== query.resource) return false;
  if (query.since === undefined) return true;
  return typeof record.requestReceivedTimestamp === "string" && Date.parse(record.requestReceivedTimestamp) >= query.since.getTime();
}

function parseJson(text: string, where: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // Reported below, as for any line that is not a record.
  }
  throw new UnavailableError(`${where} of the audit log is not a valid record; run \`holdfast audit verify\``);
}

function parseLine(text: string, where: string): AuditRecord {
  return validate(parseJson(text, where), where);
}

function validate(raw: Record<string, unknown>, where: string): AuditRecord {
  const parsed = auditRecordSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw new UnavailableError(`${where} of the audit log is not a valid record; run \`holdfast audit verify\``, { cause: parsed.error });
}
