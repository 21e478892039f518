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

/** The label every Node carries with its own name (Kubernetes' well-known label), e.g. for a spread rule's topologyKey. */
export const NODE_HOSTNAME_LABEL = "kubernetes.io/hostname";

/**
 * How long a Node may stay not Ready before its instances count as lost and the secondaries among them are rebuilt on
 * another node (ADR 0027); a Cluster's `holdfast.io/node-lost-grace` annotation (seconds) changes it for that cluster.
 */
export const NODE_LOST_GRACE_MS = 60_000;

/** The annotation of a Cluster that sets its node-lost grace period, in seconds. */
export const ANNOTATION_NODE_LOST_GRACE = "holdfast.io/node-lost-grace";

/** The node-lost grace period of a cluster with these annotations: the annotation when it is a number of seconds (0–86400), else the default. */
export function nodeLostGraceMs(annotations: Readonly<Record<string, string>> | undefined): number {
  const text = annotations?.[ANNOTATION_NODE_LOST_GRACE]?.trim() ?? "";
  const seconds = Number(text);
  return text !== "" && Number.isFinite(seconds) && seconds >= 0 && seconds <= 86_400 ? Math.round(seconds * 1000) : NODE_LOST_GRACE_MS;
}

/**
 * Since when the Node has been lost: not Ready for longer than `graceMs` at `nowMs` (the moment it went not Ready
 * plus the grace), or undefined while it is Ready or within the grace.
 */
export function nodeLostSince(node: Node, nowMs: number, graceMs: number): number | undefined {
  const ready = nodeReadyCondition(node);
  if (ready === undefined || ready.status === "True") return undefined;
  const since = Date.parse(ready.lastTransitionTime);
  if (!Number.isFinite(since) || nowMs - since < graceMs) return undefined;
  return since;
}

/** A label name (a key without its prefix, or a non-empty value): up to 63 characters, alphanumeric at both ends. */
function isLabelName(text: string): boolean {
  return text.length <= 63 && /^[-A-Za-z0-9_.]+$/.test(text) && /^[A-Za-z0-9]/.test(text) && /[A-Za-z0-9]$/.test(text);
}

/** A node label key as Kubernetes allows it: an optional DNS subdomain prefix and `/`, then a label name. */
export const nodeLabelKeySchema = z.string().refine((key) => {
  const slash = key.lastIndexOf("/");
  return (slash === -1 || dns1123SubdomainSchema.safeParse(key.slice(0, slash)).success) && isLabelName(key.slice(slash + 1));
}, "must be a label key: [prefix/]name, the name up to 63 letters, digits, '-', '_' or '.'");

/** A node label value as Kubernetes allows it: empty, or a label name. */
export const nodeLabelValueSchema = z.string().refine((value) => value === "" || isLabelName(value), "must be a label value: up to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit");

/** The labels a Node carries: the ones its server was given (`--node-labels`) and its hostname label. */
export function nodeLabels(nodeName: string, given: Readonly<Record<string, string>>): Record<string, string> {
  return { ...given, [NODE_HOSTNAME_LABEL]: nodeName };
}

/** A node name: what `--node-name` (default: the host name) must be. */
export const nodeNameSchema = dns1123SubdomainSchema;

/**
 * How a node is reached: the `Advertise` address other nodes use, its API server's URL, and `ExternalIP` (Kubernetes'
 * NodeAddress type): the non-loopback address `--external-address` names, where exposed endpoints listen (ADR 0041).
 */
export const nodeAddressSchema = z.object({ type: z.enum(["Advertise", "APIServer", "Hostname", "ExternalIP"]), address: z.string() });

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
