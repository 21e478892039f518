/** What a node agent reports of its machine in its Node's status (pure: the facts are gathered in node-facts.ts). */
import { NODE_READY, type Condition, type Node, type NodeAddress, type NodeEngine, type NodeStatus } from "../api/index.ts";

/** The facts of this machine a heartbeat reports. */
export interface NodeFacts {
  advertise: string;
  /** The non-loopback address where exposed endpoints listen (`--external-address`), if any. */
  externalAddress?: string | undefined;
  /** The API server's URL on this node, once it listens. */
  apiUrl?: string | undefined;
  hostname: string;
  cpus: number;
  memoryBytes: number;
  homeDiskBytes: number;
  engines: NodeEngine[];
  holdfastVersion: string;
  operatingSystem: string;
  architecture: string;
}

/** The reason of the Ready condition a running agent posts (Kubernetes' KubeletReady). */
export const NODE_AGENT_READY = "NodeAgentReady";

function addressesOf(facts: NodeFacts): NodeAddress[] {
  return [
    { type: "Advertise", address: facts.advertise },
    ...(facts.apiUrl === undefined ? [] : [{ type: "APIServer" as const, address: facts.apiUrl }]),
    { type: "Hostname", address: facts.hostname },
    ...(facts.externalAddress === undefined ? [] : [{ type: "ExternalIP" as const, address: facts.externalAddress }]),
  ];
}

/** The Ready condition a heartbeat posts; its transition time kept while it stays True. */
function readyCondition(previous: readonly Condition[], at: string): Condition {
  const old = previous.find((c) => c.type === NODE_READY);
  return {
    type: NODE_READY,
    status: "True",
    reason: NODE_AGENT_READY,
    message: "the node agent is posting heartbeats",
    lastTransitionTime: old?.status === "True" ? old.lastTransitionTime : at,
  };
}

/** The status one heartbeat at `at` writes: the facts, the heartbeat time, and Ready=True (other conditions kept). */
export function heartbeatStatus(node: Pick<Node, "status"> | undefined, facts: NodeFacts, at: string): NodeStatus {
  const previous = node?.status?.conditions ?? [];
  return {
    addresses: addressesOf(facts),
    capacity: { cpus: facts.cpus, memoryBytes: facts.memoryBytes, homeDiskBytes: facts.homeDiskBytes },
    engines: facts.engines,
    nodeInfo: { holdfastVersion: facts.holdfastVersion, operatingSystem: facts.operatingSystem, architecture: facts.architecture },
    heartbeatTime: at,
    conditions: [...previous.filter((c) => c.type !== NODE_READY), readyCondition(previous, at)],
  };
}
