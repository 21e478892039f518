/** `holdfast audit`: list and export audit events from the server; verify a home's audit log on disk. */
import { UsageError, boolFlag, expectPositionals, intFlag, stringFlag } from "./args.ts";
import type { FlagValues, ParsedArgs } from "./args.ts";
import { resourcePlural } from "./access-attributes.ts";
import { allNodesAuditRecords, localAuditRecords } from "./audit-sources.ts";
import { describeVerification, verifyHomeAuditLog } from "./audit-verify.ts";
import { clientOf, homeOf } from "./context.ts";
import type { CliContext } from "./context.ts";
import { sinceInstant } from "./durations.ts";
import { toJson } from "./output.ts";
import { AUDIT_API, auditRecordsSchema, parseAnswer } from "./security-api.ts";
import { auditTable } from "./security-tables.ts";
import { OUTPUT_FLAG, outputOf, runGroup, type CommandGroup } from "./subcommands.ts";

export const AUDIT_HELP = `Read and check the tamper-evident audit log.

Usage:
  holdfast audit list [--user U] [--verb V] [--resource R] [--since 1h|TIME] [--limit N] [--all-nodes | --local] [-o json|wide]
  holdfast audit export [--user U] [--verb V] [--resource R] [--since 1h|TIME] [--limit N] [--all-nodes | --local]
  holdfast audit verify [--home DIR] [--expect-checkpoint FILE] [-o json]

Each control-plane node keeps its own hash-chained log in its home; list and export read the
node the CLI talks to, every node with --all-nodes, or the home's log on disk with --local.
verify checks one home's log on disk: run it on each node.

Examples:
  holdfast audit list --since 1h
  holdfast audit export --since 7d > audit-week.jsonl
  holdfast audit verify

Run "holdfast audit SUBCOMMAND --help" for the flags of each.
`;

const FILTER_HELP = `      --user USER        Only requests by USER
      --verb VERB        Only this verb: get, list, create, update, patch, delete, ...
      --resource R       Only this resource: a kind by any name (clusters, cl, ops, secrets) or users, apitokens, auditevents, keyring
      --since WHEN       Only requests received since a duration ago (10m, 2h, 7d) or an RFC 3339 time (2025-06-01T12:00:00Z)
      --limit N          At most the newest N events (default: the server's, 1000)
      --all-nodes        Read the log of every control-plane node (through each node's API address),
                         merged in time order with a NODE column; a node that does not answer is named
      --local            Read this home's own log on disk (--home), without a server: it answers even when
                         the store is unavailable and the API cannot sign anyone in`;

const LIST_HELP = `List audit events: who did what to which object, with what outcome, and why it was allowed or refused.

Needs the auditor or cluster-admin role.

Usage:
  holdfast audit list [--user U] [--verb V] [--resource R] [--since 1h|TIME] [--limit N] [-o json|wide]

Examples:
  holdfast audit list --since 1h
  holdfast audit list --user alice --verb delete
  holdfast audit list --resource cl --since 2025-06-01T00:00:00Z -o wide

Options:
${FILTER_HELP}
  -o, --output json|wide Print the server's EventList as JSON, or add stage, source address and audit id
`;

const EXPORT_HELP = `Export audit events as JSON lines (one record per line, as the server sends them,
hash-chain fields included), for shipping to a log store.

Needs the auditor or cluster-admin role.

Usage:
  holdfast audit export [--user U] [--verb V] [--resource R] [--since 1h|TIME] [--limit N]

Examples:
  holdfast audit export > audit.jsonl
  holdfast audit export --since 24h --user alice

Options:
${FILTER_HELP}
`;

const VERIFY_HELP = `Verify the audit log of a home on disk: the hash chain of every record, the
signature of every checkpoint, and that nothing after the latest checkpoint was cut off.

Runs locally and needs no server, only read access to the home's audit directory and
the public key beside its audit signing key. Exits 0 when the log is intact and 1 at the
first bad record, naming its sequence number, its line and what is wrong with it.

Cutting the log back to an earlier checkpoint and putting that checkpoint in
checkpoint.json cannot be seen from the home alone: keep copies of checkpoint.json
where the host's users cannot change them, and pass the latest with --expect-checkpoint.
The log must then still hold that checkpoint, unchanged.

Usage:
  holdfast audit verify [--home DIR] [--expect-checkpoint FILE] [-o json]

Examples:
  holdfast audit verify
  holdfast audit verify --home /var/lib/holdfast -o json
  holdfast audit verify --expect-checkpoint /mnt/offsite/holdfast-checkpoint.json

Options:
      --expect-checkpoint FILE  A checkpoint copied off the host earlier (checkpoint.json);
                                fail unless the log still holds it unchanged
`;

const FILTER_FLAGS = {
  "all-nodes": { type: "boolean" },
  local: { type: "boolean" },
  user: { type: "string" },
  verb: { type: "string" },
  resource: { type: "string" },
  since: { type: "string" },
  limit: { type: "string" },
} as const;

/** The query string of `GET auditevents` for the filter flags; `--since` becomes an RFC 3339 instant. */
export function auditQuery(values: FlagValues, now: Date, command: string): string {
  const params = new URLSearchParams();
  const user = stringFlag(values, "user");
  const verb = stringFlag(values, "verb");
  const resource = stringFlag(values, "resource");
  const since = stringFlag(values, "since");
  if (user !== undefined) params.set("user", user);
  if (verb !== undefined) params.set("verb", verb);
  if (resource !== undefined) params.set("resource", resourcePlural(resource));
  if (since !== undefined) params.set("since", sinceInstant(since, now, command));
  if (stringFlag(values, "limit") !== undefined) {
    const limit = intFlag(values, "limit", 0, command);
    if (limit < 1) throw new UsageError("--limit must be at least 1", command);
    params.set("limit", String(limit));
  }
  const query = params.toString();
  return query === "" ? "" : `?${query}`;
}

async function fetchRecords(ctx: CliContext, args: ParsedArgs, command: string): Promise<{ answer: unknown; items: Record<string, unknown>[] }> {
  expectPositionals(args, [], command);
  const query = auditQuery(args.values, ctx.now(), command);
  const local = boolFlag(args.values, "local");
  if (local && boolFlag(args.values, "all-nodes")) throw new UsageError("--local and --all-nodes do not go together", command);
  if (local || boolFlag(args.values, "all-nodes")) {
    const items = local ? await localAuditRecords(ctx, args.values, query) : await allNodesAuditRecords(ctx, args.values, query, command);
    return { answer: { apiVersion: "audit.k8s.io/v1", kind: "EventList", items }, items };
  }
  const path = `${AUDIT_API}/auditevents${query}`;
  const answer = await clientOf(ctx, args.values).getJson(path);
  return { answer, items: parseAnswer(auditRecordsSchema, answer, command).items };
}

async function runList(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const format = outputOf(args.values, ["json", "wide"], "audit list");
  const { answer, items } = await fetchRecords(ctx, args, "audit list");
  if (format === "json") {
    ctx.io.out(toJson(answer));
    return 0;
  }
  if (!items.some((item) => item["type"] !== "checkpoint")) {
    ctx.io.err("No audit events.\n");
    return 0;
  }
  ctx.io.out(auditTable(items, format === "wide"));
  return 0;
}

async function runExport(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const { items } = await fetchRecords(ctx, args, "audit export");
  ctx.io.out(items.map((item) => `${JSON.stringify(item)}\n`).join(""));
  return 0;
}

async function runVerify(ctx: CliContext, args: ParsedArgs): Promise<number> {
  expectPositionals(args, [], "audit verify");
  const format = outputOf(args.values, ["json"], "audit verify");
  const expectCheckpoint = stringFlag(args.values, "expect-checkpoint");
  const result = await verifyHomeAuditLog(homeOf(ctx, args.values), expectCheckpoint);
  ctx.io.out(format === "json" ? toJson(result) : describeVerification(result));
  return result.ok ? 0 : 1;
}

const AUDIT_GROUP: CommandGroup = {
  name: "audit",
  help: AUDIT_HELP,
  subcommands: {
    list: { help: LIST_HELP, flags: { ...FILTER_FLAGS, ...OUTPUT_FLAG }, run: runList },
    export: { help: EXPORT_HELP, flags: FILTER_FLAGS, run: runExport },
    verify: { help: VERIFY_HELP, flags: { ...OUTPUT_FLAG, "expect-checkpoint": { type: "string" } }, run: runVerify },
  },
};

/** Run `holdfast audit SUBCOMMAND`. */
export function runAudit(ctx: CliContext, argv: readonly string[]): Promise<number> {
  return runGroup(ctx, argv, AUDIT_GROUP);
}
