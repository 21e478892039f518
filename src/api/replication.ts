/**
 * Replication fields of Instances and Clusters: which instance a replica streams from, fencing, lag, the
 * component's current and target primary (CloudNativePG's currentPrimary/targetPrimary), and the stable
 * endpoints (the local runtime's Services with a role selector).
 */
import { z } from "zod";

/** Instance.spec.replication: set on instances of replicated components; the ha controller owns it after creation. */
export const instanceReplicationSpecSchema = z.object({
  /** For a secondary: the instance it streams from. */
  upstream: z.string().optional(),
  /** Stopped on purpose so it cannot accept writes; never started while set. */
  fenced: z.boolean().optional(),
  /** After an unexpected exit, fence instead of restarting: the ha controller fails over or restarts it. */
  fenceOnExit: z.boolean().optional(),
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

/** One stable endpoint of a cluster: a fixed loopback port forwarding to the instances with a role. */
export const clusterEndpointSchema = z.object({
  /** Service-like name, e.g. `pg-cluster-postgresql` (read-write) or `pg-cluster-postgresql-ro`. */
  name: z.string(),
  component: z.string(),
  access: z.enum(["ReadWrite", "ReadOnly"]),
  /** The role whose ready instances receive connections. */
  roleSelector: z.string(),
  host: z.string(),
  port: z.int().min(1).max(65535),
  /** Instances connections go to now. */
  targets: z.array(z.string()).optional(),
});

export type InstanceReplicationSpec = z.infer<typeof instanceReplicationSpecSchema>;
export type InstanceReplicationStatus = z.infer<typeof instanceReplicationStatusSchema>;
export type RoleChange = z.infer<typeof roleChangeSchema>;
export type ComponentReplicationStatus = z.infer<typeof componentReplicationStatusSchema>;
export type ClusterEndpoint = z.infer<typeof clusterEndpointSchema>;
