/**
 * Where `holdfast audit list|export` read from besides the server the CLI talks to: every control-plane node (each
 * keeps its own log, as each kube-apiserver does), or this home's log on disk (no server, no store: it answers even
 * when etcd has lost its quorum and the API cannot authenticate anyone).
 */
import { z } from "zod";
import { homePaths } from "../config/index.ts";
import { CliError } from "./args.ts";
import { ApiClient } from "./client.ts";
import { clientOf, homeOf, trustedCa } from "./context.ts";
import type { CliContext } from "./context.ts";
import type { FlagValues } from "./args.ts";
import { AUDIT_API, auditRecordsSchema, parseAnswer } from "./security-api.ts";

const NODES_PATH = "/apis/holdfast.io/v1alpha1/nodes";
const nodeListSchema = z.object({
  items: z.array(z.object({ metadata: z.object({ name: z.string() }), status: z.object({ addresses: z.array(z.object({ type: z.string(), address: z.string() })).optional() }).optional() })),
});

/** One record, with the node it came from when read across nodes. */
export type AuditItem = Record<string, unknown>;

/** The newest events of this home's own log on disk, filtered as the server filters (`query` is its query string). */
export async function localAuditRecords(ctx: CliContext, values: FlagValues, query: string): Promise<AuditItem[]> {
  const paths = homePaths(homeOf(ctx, values));
  const { readNewestAuditEvents } = await import("../security/index.ts");
  const { auditEventsQuery, auditEventsLimit } = await import("../server/index.ts");
  const params = new URLSearchParams(query.replace(/^\?/, ""));
  try {
    const { events } = await readNewestAuditEvents(auditEventsQuery(paths.auditDir, params, ctx.now()), auditEventsLimit(params.get("limit")));
    return events;
  } catch (error) {
    throw new CliError(`cannot read the audit log in ${paths.auditDir}: ${error instanceof Error ? error.message : String(error)} (run it on the node's machine, as a user who may read its home)`);
  }
}

/** The events of every node (through each node's API address, with this CLI's session), each marked with its node, oldest first. */
export async function allNodesAuditRecords(ctx: CliContext, values: FlagValues, query: string, command: string): Promise<AuditItem[]> {
  const client = clientOf(ctx, values);
  const nodes = parseAnswer(nodeListSchema, await client.getJson(NODES_PATH), command).items;
  const token = ctx.env["HOLDFAST_TOKEN"] ?? (await import("./cli-config.ts")).readCliConfig(homeOf(ctx, values)).token;
  const ca = trustedCa(homeOf(ctx, values));
  const merged: AuditItem[] = [];
  for (const node of nodes) {
    const url = node.status?.addresses?.find((address) => address.type === "APIServer")?.address;
    if (url === undefined) {
      ctx.io.err(`node ${node.metadata.name} reports no API server address; its audit log is left out\n`);
      continue;
    }
    const nodeClient = new ApiClient(url, { ...(token === undefined ? {} : { token }), ...(ca === undefined ? {} : { ca }) });
    try {
      const answer = parseAnswer(auditRecordsSchema, await nodeClient.getJson(`${AUDIT_API}/auditevents${query}`), command);
      for (const item of answer.items) merged.push({ node: node.metadata.name, ...item });
    } catch (error) {
      ctx.io.err(`node ${node.metadata.name} (${url}) did not answer: ${error instanceof Error ? error.message : String(error)}; its audit log is left out\n`);
    }
  }
  return merged.sort((a, b) => receivedAt(a).localeCompare(receivedAt(b)));
}

function receivedAt(item: AuditItem): string {
  const value = item["requestReceivedTimestamp"] ?? item["timestamp"];
  return typeof value === "string" ? value : "";
}
