/** Cluster (apps.kubeblocks.io/v1): KubeBlocks' field names; fields only Kubernetes can honour are accepted and reported. */
import { z } from "zod";
import { clusterRestoreSchema } from "./cluster-restore.ts";
import { conditionSchema, metadataSchema, quantitySchema } from "./common.ts";
import { clusterEndpointSchema, componentReplicationStatusSchema } from "./replication.ts";

/** cpu/memory limits and requests, as corev1.ResourceRequirements. */
export const resourceRequirementsSchema = z.looseObject({
  limits: z.record(z.string(), quantitySchema).optional(),
  requests: z.record(z.string(), quantitySchema).optional(),
});

/** A PersistentVolumeClaim template; on the local runtime the size and class are advisory. */
export const volumeClaimTemplateSchema = z.looseObject({
  name: z.string().min(1),
  spec: z
    .looseObject({
      storageClassName: z.string().optional(),
      accessModes: z.array(z.string()).optional(),
      resources: z.looseObject({ requests: z.record(z.string(), quantitySchema).optional() }).optional(),
    })
    .optional(),
});

/** One component of a cluster (ClusterComponentSpec). */
export const componentSpecSchema = z.looseObject({
  name: z.string().min(1).max(22),
  componentDef: z.string().optional(),
  serviceVersion: z.string().optional(),
  replicas: z.int().min(0, "replicas must be 0 or more").max(64).default(1),
  resources: resourceRequirementsSchema.optional(),
  volumeClaimTemplates: z.array(volumeClaimTemplateSchema).optional(),
  disableExporter: z.boolean().optional(),
  stop: z.boolean().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

/** What happens to data when the cluster is deleted. `Halt` is gone since KubeBlocks 0.9. */
export const terminationPolicySchema = z.enum(["DoNotTerminate", "Delete", "WipeOut"]);

/** ClusterSpec. */
export const clusterSpecSchema = z.looseObject({
  clusterDef: z.string().optional(),
  topology: z.string().optional(),
  terminationPolicy: terminationPolicySchema.default("Delete"),
  componentSpecs: z.array(componentSpecSchema).min(1, "a cluster needs at least one component"),
  /** Create the cluster's data from a backup instead of empty (see cluster-restore.ts). */
  restore: clusterRestoreSchema.optional(),
});

/** One instance of a component as the cluster reports it. */
export const clusterInstanceStatusSchema = z.object({
  name: z.string(),
  port: z.int().optional(),
  role: z.string().optional(),
  phase: z.string(),
  ready: z.boolean(),
  restartCount: z.int(),
});

/** ClusterComponentStatus plus the instances of the component. */
export const componentStatusSchema = z.object({
  phase: z.string(),
  message: z.string().optional(),
  replicas: z.int().optional(),
  readyReplicas: z.int().optional(),
  instances: z.array(clusterInstanceStatusSchema).optional(),
});

/** Cluster phases as KubeBlocks defines them. */
export const clusterPhaseSchema = z.enum(["Creating", "Running", "Updating", "Stopping", "Stopped", "Deleting", "Failed", "Abnormal"]);

/** ClusterStatus. */
export const clusterStatusSchema = z.object({
  observedGeneration: z.int().optional(),
  phase: clusterPhaseSchema.optional(),
  message: z.string().optional(),
  conditions: z.array(conditionSchema).optional(),
  components: z.record(z.string(), componentStatusSchema).optional(),
  /** Replicated components: current and target primary, last role change (kept by the ha controller). */
  replication: z.record(z.string(), componentReplicationStatusSchema).optional(),
  /** Stable endpoints: ports allocated once, kept across role changes and control-plane restarts. */
  endpoints: z.array(clusterEndpointSchema).optional(),
});

export const clusterSchema = z.object({
  apiVersion: z.literal("apps.kubeblocks.io/v1"),
  kind: z.literal("Cluster"),
  metadata: metadataSchema,
  spec: clusterSpecSchema,
  status: clusterStatusSchema.optional(),
});

export type ResourceRequirements = z.infer<typeof resourceRequirementsSchema>;
export type ComponentSpec = z.infer<typeof componentSpecSchema>;
export type TerminationPolicy = z.infer<typeof terminationPolicySchema>;
export type ClusterSpec = z.infer<typeof clusterSpecSchema>;
export type ClusterPhase = z.infer<typeof clusterPhaseSchema>;
export type ClusterInstanceStatus = z.infer<typeof clusterInstanceStatusSchema>;
export type ComponentStatus = z.infer<typeof componentStatusSchema>;
export type ClusterStatus = z.infer<typeof clusterStatusSchema>;
export type Cluster = z.infer<typeof clusterSchema>;
