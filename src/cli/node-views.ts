/** How `holdfast get nodes` and `holdfast describe node` show Nodes, and which node leads the controllers. */
import { findKind, type Resource } from "../api/index.ts";
import { formatBytes } from "./backup-views.ts";
import { ApiError, type ApiClient } from "./client.ts";
import { keyValues } from "./describe-sections.ts";
import { list, text } from "./fields.ts";
import { formatAge } from "./output.ts";

/** Where the controllers' leader is recorded: a coordination.k8s.io Lease. */
export const CONTROLLER_LEASE = { kind: "Lease", namespace: "holdfast-system", name: "holdfast-controllers" } as const;

/** What a Node row needs besides the Node: the node holding the controllers' lease (undefined: not known). */
export interface NodeTableContext {
  leader?: string | undefined;
}

/** The node whose controllers lead, from the Lease; undefined when the server has no Lease kind or none is held. */
export async function controllerLeader(client: ApiClient): Promise<string | undefined> {
  const info = findKind(CONTROLLER_LEASE.kind);
  if (info === undefined) return undefined;
  try {
    const lease = await client.get(info, info.namespaced ? CONTROLLER_LEASE.namespace : undefined, CONTROLLER_LEASE.name);
    const holder = text(lease, "spec.holderIdentity");
    return holder === "" ? undefined : holder;
  } catch (error) {
    // No lease yet, a server without the kind, or no permission to read it: the column says "-".
    if (error instanceof ApiError && [403, 404].includes(error.code)) return undefined;
    throw error;
  }
}

/** `postgresql 16.4,15.8; redis 7.0.15`, or `-`. */
export function enginesText(node: unknown): string {
  const engines = list(node, "status.engines").map((e) => `${text(e, "name")} ${list(e, "versions").map(String).join(",")}`);
  return engines.length === 0 ? "-" : engines.join("; ");
}

function conditionStatus(node: unknown, type: string): string {
  const condition = list(node, "status.conditions").find((c) => text(c, "type") === type);
  return text(condition, "status", "Unknown");
}

function addressOf(node: unknown, type: string): string {
  return text(list(node, "status.addresses").find((a) => text(a, "type") === type), "address");
}

/** The Node columns: NAME, READY, LEADER, VERSION, ADDRESS, ENGINES, AGE. */
export function nodeColumns(context: NodeTableContext): [string, (object: Resource, now: Date) => string][] {
  const leader = (o: Resource): string => (context.leader === undefined ? "-" : o.metadata.name === context.leader ? "yes" : "no");
  return [
    ["NAME", (o) => o.metadata.name],
    ["READY", (o) => conditionStatus(o, "Ready")],
    ["LEADER", leader],
    ["VERSION", (o) => text(o, "status.nodeInfo.holdfastVersion", "-")],
    ["ADDRESS", (o) => addressOf(o, "Advertise") || "-"],
    ["ENGINES", (o) => enginesText(o)],
    ["AGE", (o, now) => formatAge(o.metadata.creationTimestamp, now)],
  ];
}

/** Node: addresses, capacity, engines, versions and the heartbeat. */
export function nodeSection(object: Resource, now: Date): string {
  const heartbeat = text(object, "status.heartbeatTime");
  return `Status:\n${keyValues(
    [
      ["Ready", conditionStatus(object, "Ready")],
      ["Last Heartbeat", heartbeat === "" ? "<never>" : `${heartbeat} (${formatAge(heartbeat, now)} ago)`],
      ["Advertise Address", addressOf(object, "Advertise") || "<none>"],
      ["API Server", addressOf(object, "APIServer") || "<none>"],
      ["Hostname", addressOf(object, "Hostname") || "<none>"],
      ["CPUs", text(object, "status.capacity.cpus", "-")],
      ["Memory", formatBytes(text(object, "status.capacity.memoryBytes"))],
      ["Home Disk", formatBytes(text(object, "status.capacity.homeDiskBytes"))],
      ["Engines", enginesText(object)],
      ["Holdfast Version", text(object, "status.nodeInfo.holdfastVersion", "-")],
      ["OS/Arch", `${text(object, "status.nodeInfo.operatingSystem", "?")}/${text(object, "status.nodeInfo.architecture", "?")}`],
    ],
    "  ",
  )}`;
}
