/** `holdfast describe`: one object in prose — fields, status, conditions and events. */
import { apiVersionOf } from "../api/index.ts";
import type { Resource } from "../api/index.ts";
import { NAMESPACE_FLAGS, UsageError, boolFlag, namespaceOf, parseFlags } from "./args.ts";
import { clientOf } from "./context.ts";
import type { CliContext } from "./context.ts";
import {
  clusterSection,
  conditionsSection,
  genericSection,
  instanceSection,
  metadataSection,
  opsRequestSection,
  secretSection,
  tableSection,
} from "./describe-sections.ts";
import { eventAge, eventsFor } from "./events.ts";
import { nodeSection } from "./node-views.ts";
import { text } from "./fields.ts";
import { parseTarget } from "./kinds.ts";

export const DESCRIBE_HELP = `Show details of an object: its spec, status, conditions and recent events.

Usage:
  holdfast describe KIND NAME [-n NAMESPACE]

Examples:
  holdfast describe cluster pg-cluster -n demo
  holdfast describe inst pg-cluster-postgresql-0 -n demo
  holdfast describe node vm1
  holdfast describe ops/pg-restart -n demo

Options:
  -n, --namespace   Namespace (default: default)
      --server URL  API server;  --home DIR  Holdfast home
`;

/** The kind-specific body of a description. */
function kindSection(object: Resource, now: Date): string {
  switch (object.kind) {
    case "Cluster":
      return clusterSection(object);
    case "Instance":
      return instanceSection(object, now);
    case "Node":
      return nodeSection(object, now);
    case "Secret":
      return secretSection(object);
    case "OpsRequest":
      return opsRequestSection(object);
    case "Namespace":
      return `Status:  ${text(object, "status.phase", "Active")}\n`;
    default:
      return genericSection(object);
  }
}

/** The Events table as describe shows it. */
export function eventsSection(events: readonly Resource[], now: Date): string {
  const rows = events.map((event) => [
    text(event, "type"),
    text(event, "reason"),
    eventAge(event, now),
    text(event, "source.component", "holdfast"),
    text(event, "message"),
  ]);
  return tableSection("Events", ["TYPE", "REASON", "AGE", "FROM", "MESSAGE"], rows);
}

/** The whole description of one object and its events. */
export function renderDescription(object: Resource, events: readonly Resource[], now: Date): string {
  const hasConditions = Array.isArray((object.status as { conditions?: unknown } | undefined)?.conditions);
  return (
    metadataSection(object, now) +
    kindSection(object, now) +
    (hasConditions || object.kind === "Cluster" ? conditionsSection(object, now) : "") +
    (object.kind === "Event" ? "" : eventsSection(events, now))
  );
}

/** Run `holdfast describe`. */
export async function runDescribe(ctx: CliContext, argv: readonly string[]): Promise<number> {
  const args = parseFlags(argv, NAMESPACE_FLAGS, "describe");
  if (boolFlag(args.values, "help")) {
    ctx.io.out(DESCRIBE_HELP);
    return 0;
  }
  const { info, names } = parseTarget(args.positionals, "describe");
  if (names.length === 0) throw new UsageError(`missing NAME: holdfast describe ${info.singular} NAME`, "describe");
  const client = clientOf(ctx, args.values);
  const namespace = info.namespaced ? namespaceOf(args.values) : undefined;
  const parts: string[] = [];
  for (const name of names) {
    const fetched = await client.get(info, namespace, name);
    const object = { ...fetched, apiVersion: fetched.apiVersion || apiVersionOf(info), kind: fetched.kind || info.kind };
    parts.push(renderDescription(object, await eventsFor(client, object), ctx.now()));
  }
  ctx.io.out(parts.join("\n\n"));
  return 0;
}
