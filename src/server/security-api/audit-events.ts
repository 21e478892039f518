/** GET auditevents: the audit log's newest `limit` events, filtered (`user`, `verb`, `resource`, `since`), read from the log's end. */
import { InputError } from "../../errors/index.ts";
import { readNewestAuditEvents, type AuditQuery } from "../../security/index.ts";
import type { Endpoint } from "../endpoint.ts";
import { MethodNotAllowedError } from "../http-errors.ts";
import { AUDIT_GROUP, ok, rbac, type SecurityServices } from "./services.ts";

const DEFAULT_LIMIT = 1000;
const MAX_LIMIT = 100_000;
const DURATION = /^(\d+)(s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** The endpoint for `auditevents`. */
export function auditEventsEndpoint(services: SecurityServices, method: string): Endpoint {
  if (method !== "GET") throw new MethodNotAllowedError(`${method} is not allowed on auditevents; the audit log is read-only (GET)`);
  return {
    permission: () => rbac({ verb: "list", apiGroup: AUDIT_GROUP, resource: "auditevents" }),
    run: async (exchange) => {
      const query = auditQuery(services.auditDirectory, exchange.query, new Date());
      const limit = limitOf(exchange.query.get("limit"));
      // Read from the end of the log: the cost is the answer's, not the log's size.
      const { events } = await readNewestAuditEvents(query, limit);
      return ok({ apiVersion: "audit.k8s.io/v1", kind: "EventList", items: events });
    },
  };
}

/** Filters from query parameters; `since` is RFC 3339 or a duration back from `now` (30s, 10m, 2h, 7d). */
export function auditQuery(directory: string, params: URLSearchParams, now: Date): AuditQuery {
  const query: AuditQuery = { directory };
  for (const key of ["user", "verb", "resource"] as const) {
    const value = params.get(key);
    if (value !== null && value !== "") query[key] = value;
  }
  const since = params.get("since");
  if (since !== null && since !== "") query.since = sinceOf(since, now);
  return query;
}

function sinceOf(text: string, now: Date): Date {
  const match = DURATION.exec(text);
  if (match?.[1] !== undefined && match[2] !== undefined) return new Date(now.getTime() - Number(match[1]) * (UNIT_MS[match[2]] ?? 0));
  const parsed = Date.parse(text);
  if (Number.isNaN(parsed)) throw new InputError(`since=${text} is neither an RFC 3339 time nor a duration such as 30s, 10m, 2h or 7d`);
  return new Date(parsed);
}

/** The `limit` query parameter: 1 to 100,000, 1000 when absent. */
export function limitOf(text: string | null): number {
  if (text === null || text === "") return DEFAULT_LIMIT;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > MAX_LIMIT) throw new InputError(`limit=${text} must be a whole number from 1 to ${MAX_LIMIT}`);
  return value;
}
