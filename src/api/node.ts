/**
 * Node (holdfast.io/v1alpha1, cluster-scoped): one machine running a node agent, Kubernetes' Node for Holdfast.
 * Written by Holdfast only: the node agent registers its Node and renews `status.heartbeatTime`; the node lifecycle
 * controller marks a Node whose heartbeat stopped `Ready=False` (ADR 0020). Users read Nodes; nobody writes them
 * through the API.
 */
import { z } from "zod";
import { conditionSchema, dns1123SubdomainSchema, metadataSchema } from "./common.ts";
import type { Condition } from "./meta.ts";

/** The type of a Node's readiness condition. */
export const NODE_READY = "Ready";

/** Why a Node is not Ready: its agent stopped renewing the heartbeat (Kubernetes' reason for the same). */
export const NODE_STATUS_UNKNOWN = "NodeStatusUnknown";

/** How often a node agent renews its Node's heartbeat. */
export const NODE_HEARTBEAT_INTERVAL_MS = 5_000;

/**
 * How old a heartbeat may get before the node lifecycle controller marks the Node `Ready=False`: four missed
 * heartbeats, so one slow write or a short pause of the process does not flap it.
 */
export const NODE_GRACE_PERIOD_MS = 20_000;

/** A node name: what `--node-name` (default: the host name) must be. */
export const nodeNameSchema = dns1123SubdomainSchema;

/** How a node is reached: the `Advertise` address other nodes use, and its API server's URL. */
export const nodeAddressSchema = z.object({ type: z.enum(["Advertise", "APIServer", "Hostname"]), address: z.string() });

/** An engine installed on the node, with its versions (newest first), as the node's engine catalog finds them. */
export const nodeEngineSchema = z.object({ name: z.string(), versions: z.array(z.string()) });

export const nodeSpecSchema = z.object({});

export const nodeStatusSchema = z.object({
  addresses: z.array(nodeAddressSchema).optional(),
  /** What the machine has: CPUs, memory and the size of the file system of the Holdfast home, in bytes. */
  capacity: z.object({ cpus: z.int().min(0), memoryBytes: z.number().nonnegative(), homeDiskBytes: z.number().nonnegative() }).optional(),
  engines: z.array(nodeEngineSchema).optional(),
  nodeInfo: z.object({ holdfastVersion: z.string(), operatingSystem: z.string(), architecture: z.string() }).optional(),
  /** When the node agent last renewed its heartbeat (every few seconds while it runs). */
  heartbeatTime: z.string().optional(),
  conditions: z.array(conditionSchema).optional(),
});

export const nodeSchema = z.object({
  apiVersion: z.literal("holdfast.io/v1alpha1"),
  kind: z.literal("Node"),
  metadata: metadataSchema.extend({ name: nodeNameSchema }),
  spec: nodeSpecSchema.optional(),
  status: nodeStatusSchema.optional(),
});

export type NodeAddress = z.infer<typeof nodeAddressSchema>;
export type NodeEngine = z.infer<typeof nodeEngineSchema>;
export type NodeStatus = z.infer<typeof nodeStatusSchema>;
export type Node = z.infer<typeof nodeSchema>;

/** The Node's Ready condition, if any. */
export function nodeReadyCondition(node: Node): Condition | undefined {
  return node.status?.conditions?.find((c) => c.type === NODE_READY);
}

/** Is the Node Ready (its Ready condition is True)? */
export function isNodeReady(node: Node): boolean {
  return nodeReadyCondition(node)?.status === "True";
}

/** The node's address of a type, if it reports one. */
export function nodeAddress(node: Node, type: NodeAddress["type"]): string | undefined {
  return node.status?.addresses?.find((a) => a.type === type)?.address;
}

/** Does the node have `engine` `version` installed (as its last heartbeat reported)? */
export function nodeHasEngine(node: Node, engine: string, version: string): boolean {
  return node.status?.engines?.some((e) => e.name === engine && e.versions.includes(version)) ?? false;
}
