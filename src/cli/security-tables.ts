/** How users, API tokens and audit events print as tables. */
import { list, text } from "./fields.ts";
import { formatAge, formatTable, humanDuration } from "./output.ts";
import type { TokenSummary, UserSummary } from "./security-api.ts";

/** The REASON column is cut to this many characters outside `-o wide`. */
export const SHORT_REASON = 80;

function ageOrNever(timestamp: string | undefined, now: Date): string {
  return timestamp === undefined ? "<never>" : formatAge(timestamp, now);
}

/** `in 29d`, or `expired` once the time has passed. */
export function expiryCell(timestamp: string, now: Date): string {
  const at = Date.parse(timestamp);
  if (Number.isNaN(at)) return "<unknown>";
  const left = at - now.getTime();
  return left <= 0 ? "expired" : `in ${humanDuration(left)}`;
}

/** Cut `cell` to `max` characters, marking the cut. */
export function shorten(cell: string, max: number): string {
  return cell.length <= max ? cell : `${cell.slice(0, max - 1)}…`;
}

/** The `holdfast user list` table; `wide` adds the groups. */
export function usersTable(users: readonly UserSummary[], now: Date, wide: boolean): string {
  const headers = ["USERNAME", "DISABLED", "MFA", "CREATED", "LAST LOGIN", ...(wide ? ["GROUPS"] : [])];
  const rows = [...users]
    .sort((a, b) => a.username.localeCompare(b.username))
    .map((user) => [
      user.username,
      String(user.disabled),
      user.mfaEnrolled ? "enrolled" : "pending",
      formatAge(user.createdAt, now),
      ageOrNever(user.lastLoginAt, now),
      ...(wide ? [user.groups.join(",") || "<none>"] : []),
    ]);
  return formatTable(headers, rows);
}

/** The `holdfast token list` table: never the token itself, which the server does not keep. */
export function tokensTable(tokens: readonly TokenSummary[], now: Date): string {
  const headers = ["ID", "NAME", "USER", "CREATED", "EXPIRES", "LAST USED", "REVOKED"];
  const rows = [...tokens]
    .sort((a, b) => a.username.localeCompare(b.username) || a.createdAt.localeCompare(b.createdAt))
    .map((token) => [
      token.id,
      token.name,
      token.username,
      formatAge(token.createdAt, now),
      expiryCell(token.expiresAt, now),
      ageOrNever(token.lastUsedAt, now),
      String(token.revoked),
    ]);
  return formatTable(headers, rows);
}

/** `2025-06-01T12:00:00Z`: the time of a record to the second, in UTC. */
export function auditTime(record: unknown): string {
  const raw = text(record, "requestReceivedTimestamp") || text(record, "stageTimestamp") || text(record, "timestamp");
  const time = Date.parse(raw);
  return Number.isNaN(time) ? raw : new Date(time).toISOString().replace(/\.[0-9]+Z$/, "Z");
}

/** `clusters/status.apps.kubeblocks.io`: what was acted on, or `-` for requests on no object (logins). */
export function auditResource(record: unknown): string {
  const resource = text(record, "objectRef.resource");
  if (resource === "") return "-";
  const subresource = text(record, "objectRef.subresource");
  const group = text(record, "objectRef.apiGroup");
  return `${resource}${subresource === "" ? "" : `/${subresource}`}${group === "" ? "" : `.${group}`}`;
}

/** `namespace/name`, `name`, `namespace/` (a collection) or `-`. */
export function auditObject(record: unknown): string {
  const namespace = text(record, "objectRef.namespace");
  const name = text(record, "objectRef.name");
  if (namespace === "" && name === "") return "-";
  return namespace === "" ? name : `${namespace}/${name}`;
}

/** The decision and its reason: RBAC's for API requests, the login outcome and method for authentications. */
export function auditDecision(record: unknown): { decision: string; reason: string } {
  if (text(record, "authentication.outcome") !== "") {
    const method = text(record, "authentication.method");
    const why = text(record, "authentication.reason");
    return { decision: `login ${text(record, "authentication.outcome")}`, reason: why === "" ? method : `${method}: ${why}` };
  }
  const reason = annotation(record, "authorization.k8s.io/reason") || text(record, "responseStatus.message") || text(record, "responseStatus.reason");
  return { decision: annotation(record, "authorization.k8s.io/decision") || "-", reason };
}

// Annotation keys contain dots, which fields.ts reads as path separators.
function annotation(record: unknown, key: string): string {
  const annotations = typeof record === "object" && record !== null ? (record as { annotations?: unknown }).annotations : undefined;
  if (typeof annotations !== "object" || annotations === null) return "";
  const value = (annotations as Record<string, unknown>)[key];
  return typeof value === "string" ? value : "";
}

/** The `holdfast audit list` table; checkpoints are left out; `wide` adds stage, source and audit id and keeps reasons whole. */
export function auditTable(records: readonly unknown[], wide: boolean): string {
  // Records read across nodes carry the node they came from (holdfast audit list --all-nodes).
  const byNode = records.some((record) => text(record, "node") !== "");
  const headers = [...(byNode ? ["NODE"] : []), "TIME", "USER", "VERB", "RESOURCE", "OBJECT", "CODE", "DECISION", "REASON", ...(wide ? ["STAGE", "SOURCE", "AUDIT-ID"] : [])];
  const rows = records
    .filter((record) => text(record, "type") !== "checkpoint")
    .map((record) => {
      const { decision, reason } = auditDecision(record);
      return [
        ...(byNode ? [text(record, "node", "-")] : []),
        auditTime(record),
        text(record, "user.username", "-"),
        text(record, "verb", "-"),
        auditResource(record),
        auditObject(record),
        text(record, "responseStatus.code", "-"),
        decision,
        wide ? reason : shorten(reason, SHORT_REASON),
        ...(wide ? [text(record, "stage", "-"), list(record, "sourceIPs").join(","), text(record, "auditID")] : []),
      ];
    });
  return formatTable(headers, rows);
}
