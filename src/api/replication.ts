/**
 * Replication fields of Instances and Clusters: which instance a replica streams from, fencing, lag, the
 * component's current and target primary (CloudNativePG's currentPrimary/targetPrimary), and the stable
 * endpoints (Services with a role selector, served by every node's agent).
 */
import { z } from "zod";

/** How commits on a primary wait for its replicas: asynchronous, or until `quorum` of `standbys` have them on disk. */
export const replicationDurabilitySpecSchema = z.object({
  mode: z.enum(["asynchronous", "synchronous"]),
  quorum: z.int().min(1).optional(),
  /** The instances counted for the quorum. */
  standbys: z.array(z.string()).optional(),
});

/**
 * Instance.spec.replication: set on instances of replicated components; the ha controller owns it after creation
 * and the node agent carries it out (ADR 0021): it stops a fenced instance with the engine's fence, promotes a
 * running replica whose spec.role became `primary`, points a replica at its upstream, applies the durability.
 */
export const instanceReplicationSpecSchema = z.object({
  /** For a secondary: the instance it streams from. */
  upstream: z.string().optional(),
  /** Stopped on purpose so it cannot accept writes; never started while set. */
  fenced: z.boolean().optional(),
  /** After an unexpected exit, stay stopped (status.replicationState.heldSince) instead of restarting: the ha controller fails over or restarts it. */
  fenceOnExit: z.boolean().optional(),
  /** The exit (status.replicationState.heldSince) the ha controller dealt with by restarting the instance in place: it may start again. */
  restartAfterExit: z.string().optional(),
  /** Report a replication probe taken after this time, and probe closely until the field goes (a role change waits for final positions). */
  observeAfter: z.string().optional(),
  /** The durability to apply on the running instance (engines that can commit synchronously). */
  durability: replicationDurabilitySpecSchema.optional(),
  /**
   * On a primary about to be switched over: write its dirty pages out now, while it still serves, and report it
   * (status.replicationState.checkpointed = this value), so the stop that follows has little left to write.
   */
  checkpointFor: z.string().optional(),
});

/** One replica as its primary sees it (Instance.status.replicationState.replicas). */
export const replicaStateSchema = z.object({
  name: z.string(),
  state: z.string().optional(),
  lagBytes: z.int().optional(),
  lagMs: z.number().optional(),
});

/**
 * Instance.status.replicationState: what the node agent last saw of a replicated instance (written on a change;
 * positions and lag at most every few seconds unless spec.replication.observeAfter asks for a fresh probe).
 */
export const instanceReplicationStateSchema = z.object({
  /** The role the running server answered with; absent when it did not answer. */
  role: z.enum(["primary", "secondary"]).optional(),
  /** Which generation of primaries it follows (PostgreSQL's timeline). */
  timeline: z.int().optional(),
  /** Engine positions (LSNs): received and applied; compare only through the engine. */
  received: z.string().optional(),
  applied: z.string().optional(),
  /** On a secondary: the port of the server it streams from, while it streams. */
  streamingFrom: z.int().optional(),
  /** On a secondary: how far behind its upstream it says it is, for engines that report it themselves (MariaDB's Seconds_Behind_Master). */
  behindMs: z.number().optional(),
  /** On a primary: its replicas as it sees them. */
  replicas: z.array(replicaStateSchema).optional(),
  /** Probes in a row a running server did not answer. */
  failures: z.int().optional(),
  /** When the probe was taken. */
  observedAt: z.string().optional(),
  /** Exited unexpectedly while spec.replication.fenceOnExit was set: held stopped since then. */
  heldSince: z.string().optional(),
  /** A cleanly stopped (fenced) former primary: where its WAL ends, for a switchover's catch-up. */
  finalPosition: z.string().optional(),
  /** The spec.replication.checkpointFor the node agent carried out (or found nothing to do for). */
  checkpointed: z.string().optional(),
});

/** Instance.status.replication: how far behind its primary a secondary is, as the primary reports it. */
export const instanceReplicationStatusSchema = z.object({
  /** The engine's word for the link, e.g. `streaming`; absent when the primary does not see the replica. */
  state: z.string().optional(),
  lagBytes: z.int().optional(),
  lagMs: z.number().optional(),
  /** When the primary was last asked. */
  observedAt: z.string().optional(),
});

/** The last switchover or failover of a component. */
export const roleChangeSchema = z.object({
  reason: z.enum(["Switchover", "Failover"]),
  /** The step under way while InProgress (ADR 0021): each checked level-triggered, so a restarted control plane resumes it. */
  step: z.enum(["Fencing", "CatchingUp", "Promoting", "Routing"]).optional(),
  /** When the node agent confirmed the former primary stopped. */
  fencedAt: z.string().optional(),
  /** The OpsRequest that asked for it (`namespace/name/uid`), for a switchover. */
  requestedBy: z.string().optional(),
  from: z.string(),
  to: z.string(),
  result: z.enum(["InProgress", "Succeeded", "Failed"]),
  message: z.string().optional(),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
});

/** Cluster.status.replication[component]: who is primary, who should be, and the last change. */
export const componentReplicationStatusSchema = z.object({
  currentPrimary: z.string().optional(),
  /** Differs from currentPrimary while a switchover or failover runs. */
  targetPrimary: z.string().optional(),
  roleChange: roleChangeSchema.optional(),
});

/**
 * `host:port` of an endpoint's target (`[host]:port` for an IPv6 address): where a node agent forwards a connection.
 * Hosts are IP addresses or DNS names, never anything with a slash, space or `@`.
 */
export const endpointAddressSchema = z.string().regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):\d{1,5}$/, "must be host:port");

/**
 * One stable endpoint of a cluster, like a Kubernetes Service with a role selector: the ha controller allocates its
 * port once and records where it leads; every node's agent serves the port on its node's advertised address and
 * forwards each new connection to one of `addresses` (ADR 0025).
 */
export const clusterEndpointSchema = z.object({
  /** Service-like name, e.g. `pg-cluster-postgresql` (read-write) or `pg-cluster-postgresql-ro`. */
  name: z.string(),
  component: z.string(),
  access: z.enum(["ReadWrite", "ReadOnly"]),
  /** The role whose ready instances receive connections. */
  roleSelector: z.string(),
  port: z.int().min(1).max(65535),
  /** Instances connections go to now. */
  targets: z.array(z.string()).optional(),
  /** Where those instances listen, in the order of `targets` (`host:port`). */
  addresses: z.array(endpointAddressSchema).optional(),
  /** New connections wait for a target instead of being refused (a role change under way, a primary expected). */
  hold: z.boolean().optional(),
  /**
   * An exposed endpoint (a ClusterService of `spec.services`, added by an Expose): served on each node's external
   * address (`ExternalIP`) instead of its advertised one, and forwarding only connections that start TLS.
   */
  exposed: z.boolean().optional(),
});

/** The `host:port` an endpoint forwards to for `host` and `port` (brackets around an IPv6 address). */
export function endpointAddress(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The host and port of an endpoint address; undefined when it is not one. */
export function parseEndpointAddress(address: string): { host: string; port: number } | undefined {
  if (!endpointAddressSchema.safeParse(address).success) return undefined;
  const colon = address.lastIndexOf(":");
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
  const port = Number(address.slice(colon + 1));
  return port >= 1 && port <= 65535 ? { host, port } : undefined;
}

export type InstanceReplicationSpec = z.infer<typeof instanceReplicationSpecSchema>;
export type InstanceReplicationStatus = z.infer<typeof instanceReplicationStatusSchema>;
export type InstanceReplicationState = z.infer<typeof instanceReplicationStateSchema>;
export type ReplicationDurabilitySpec = z.infer<typeof replicationDurabilitySpecSchema>;
export type RoleChangeStep = NonNullable<RoleChange["step"]>;
export type RoleChange = z.infer<typeof roleChangeSchema>;
export type ComponentReplicationStatus = z.infer<typeof componentReplicationStatusSchema>;
export type ClusterEndpoint = z.infer<typeof clusterEndpointSchema>;
