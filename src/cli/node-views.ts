/** How `holdfast get nodes` and `holdfast describe node` show Nodes, and which node leads the controllers. */
import { findKind, nodeAddressOfType, nodeConditionStatus, nodeEnginesText, type Resource } from "../api/index.ts";
import { formatBytes } from "./backup-views.ts";
import { ApiError, type ApiClient } from "./client.ts";
import { keyValues } from "./describe-sections.ts";
import { text } from "./fields.ts";
import { formatAge } from "./output.ts";

/** Where the controllers' leader is recorded: a coordination.k8s.io Lease. */
export const CONTROLLER_LEASE = { kind: "Lease", namespace: "holdfast-system", name: "holdfast-controllers" } as const;

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

/** Node: addresses, capacity, engines, versions and the heartbeat. */
export function nodeSection(object: Resource, now: Date): string {
  const heartbeat = text(object, "status.heartbeatTime");
  return `Status:\n${keyValues(
    [
      ["Ready", nodeConditionStatus(object, "Ready")],
      ["Last Heartbeat", heartbeat === "" ? "<never>" : `${heartbeat} (${formatAge(heartbeat, now)} ago)`],
      ["Advertise Address", nodeAddressOfType(object, "Advertise") || "<none>"],
      ["API Server", nodeAddressOfType(object, "APIServer") || "<none>"],
      ["Hostname", nodeAddressOfType(object, "Hostname") || "<none>"],
      ["CPUs", text(object, "status.capacity.cpus", "-")],
      ["Memory", formatBytes(text(object, "status.capacity.memoryBytes"))],
      ["Home Disk", formatBytes(text(object, "status.capacity.homeDiskBytes"))],
      ["Engines", nodeEnginesText(object)],
      ["Holdfast Version", text(object, "status.nodeInfo.holdfastVersion", "-")],
      ["OS/Arch", `${text(object, "status.nodeInfo.operatingSystem", "?")}/${text(object, "status.nodeInfo.architecture", "?")}`],
    ],
    "  ",
  )}`;
}
