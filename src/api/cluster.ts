/** Cluster (apps.kubeblocks.io/v1): KubeBlocks' field names; fields only Kubernetes can honour are accepted and reported. */
import { z } from "zod";
import { clusterRestoreSchema } from "./cluster-restore.ts";
import { issuerSchema } from "./client-tls.ts";
import { conditionSchema, dns1123LabelSchema, metadataSchema, quantitySchema } from "./common.ts";
import { notHonoured, refusedWhen } from "./field-support.ts";
import { clusterEndpointSchema, componentReplicationStatusSchema } from "./replication.ts";
import { componentSystemAccountSchema } from "./system-account.ts";

/** cpu/memory limits and requests, as corev1.ResourceRequirements. */
export const resourceRequirementsSchema = z.looseObject({
  limits: z.record(z.string(), quantitySchema).optional(),
  requests: z.record(z.string(), quantitySchema).optional(),
});

/** A PersistentVolumeClaim template; on the local runtime the `data` volume's size is a storage quota (ADR 0048), the class is advisory. */
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

/** A field of KubeBlocks' API that only Kubernetes (pods, Services, the scheduler) can honour: accepted and reported when set. */
function kubernetesOnly(what: string): z.ZodOptional<z.ZodUnknown> {
  return notHonoured(z.unknown(), `${what} is not honoured: Holdfast runs local processes, not pods`).optional();
}

/** Kubernetes' LabelSelector, as a spread rule selects instances: `matchLabels` only. */
export const spreadLabelSelectorSchema = z.looseObject({
  matchLabels: z.record(z.string(), z.string()).optional(),
  matchExpressions: refusedWhen(z.array(z.unknown()), (value) => Array.isArray(value) && value.length > 0, "is not supported in a spread rule's labelSelector; use matchLabels").optional(),
});

/** A spread field Holdfast refuses: it names what the placement of instances does not do. */
function spreadRefused(what: string): z.ZodOptional<z.ZodUnknown> {
  return refusedWhen(z.unknown(), (value) => value !== undefined, `${what} is not supported in topologySpreadConstraints (Holdfast honours maxSkew, topologyKey, whenUnsatisfiable and labelSelector.matchLabels); remove it`).optional();
}

/**
 * One of Kubernetes' TopologySpreadConstraints, as Holdfast places instances: the instances that `labelSelector`
 * matches (by default the component's own) are spread over the values of the node label `topologyKey`, at most
 * `maxSkew` apart; `DoNotSchedule` makes it a rule, `ScheduleAnyway` a preference.
 */
export const topologySpreadConstraintSchema = z.looseObject({
  maxSkew: z.int().min(1, "maxSkew must be 1 or more"),
  topologyKey: z.string().min(1),
  whenUnsatisfiable: z.enum(["DoNotSchedule", "ScheduleAnyway"]).default("DoNotSchedule"),
  labelSelector: spreadLabelSelectorSchema.optional(),
  minDomains: spreadRefused("minDomains"),
  matchLabelKeys: spreadRefused("matchLabelKeys"),
  nodeAffinityPolicy: spreadRefused("nodeAffinityPolicy"),
  nodeTaintsPolicy: spreadRefused("nodeTaintsPolicy"),
});

/** A schedulingPolicy field Holdfast refuses, and what to use instead. */
function schedulingRefused(message: string): z.ZodOptional<z.ZodUnknown> {
  return refusedWhen(z.unknown(), (value) => value !== undefined, message).optional();
}

/**
 * KubeBlocks' SchedulingPolicy, the subset Holdfast's placement honours (ADR 0027): `nodeName` binds every instance to
 * that node, `nodeSelector` keeps instances to nodes with those labels (`holdfast server --node-labels`), and
 * `topologySpreadConstraints` spread them over a node label's values. The parts only Kubernetes' scheduler has are refused.
 */
export const schedulingPolicySchema = z.looseObject({
  nodeName: z.string().min(1).optional(),
  nodeSelector: z.record(z.string(), z.string()).optional(),
  topologySpreadConstraints: z.array(topologySpreadConstraintSchema).optional(),
  schedulerName: schedulingRefused("is not supported: Holdfast places instances itself (nodeName, nodeSelector, topologySpreadConstraints); remove it"),
  affinity: schedulingRefused(
    "is not supported: use nodeSelector for node affinity and topologySpreadConstraints for spreading; instances of one component already go to different nodes when enough are Ready; remove it",
  ),
  tolerations: schedulingRefused("is not supported: Holdfast nodes have no taints to tolerate; remove it"),
});

/** One entry of `configs` (ClusterComponentConfig): a named configuration and the variables set in it. */
export const componentConfigSchema = z.looseObject({
  name: z.string().optional(),
  /** Engine parameters, checked against the engine's typed schema at admission (dynamic ones applied live, static ones by a rolling restart). */
  variables: z.record(z.string(), z.string()).optional(),
  configMap: notHonoured(z.unknown(), "not applied: configuration templates from ConfigMaps are not supported").optional(),
  externalManaged: notHonoured(z.boolean(), "not applied: externally managed configuration is not supported", (value) => value === true).optional(),
  reconfigure: notHonoured(z.unknown(), "not applied: reconfigure actions are not supported").optional(),
});

/**
 * A ClusterService (what an Expose adds): an endpoint of the component `componentSelector`, routed to the instances of
 * `roleSelector` (primary: read-write, secondary: read-only), served on each node's external address with TLS
 * required (ADR 0041, "Expose"). Kubernetes' Service fields (type, cloud annotations) are accepted and reported.
 */
export const clusterServiceSchema = z.looseObject({
  name: dns1123LabelSchema.max(48, "must be no more than 48 characters"),
  serviceName: notHonoured(z.string(), "not applied: the endpoint is named <cluster>-<name>").optional(),
  componentSelector: z.string().min(1),
  /** primary (absent: primary) or secondary. */
  roleSelector: z.enum(["primary", "secondary"]).optional(),
  annotations: notHonoured(z.record(z.string(), z.string()), "not applicable: no cloud load balancer; the endpoint listens on each node's external address").optional(),
  spec: notHonoured(z.unknown(), "not applicable: the endpoint listens on each node's external address, whatever the Service type").optional(),
});

/** One component of a cluster (ClusterComponentSpec). Every field KubeBlocks defines is named: honoured, reported, or refused. */
export const componentSpecSchema = z.looseObject({
  name: z.string().min(1).max(22),
  componentDef: z.string().optional(),
  serviceVersion: z.string().describe("An installed version (15, 15.18 and 15.18.0 all match PostgreSQL 15.18); absent: the newest installed.").optional(),
  replicas: z.int().min(0, "replicas must be 0 or more").max(64).describe("Instances of the component (within the topology's limits).").default(1),
  resources: resourceRequirementsSchema.optional(),
  volumeClaimTemplates: z.array(volumeClaimTemplateSchema).optional(),
  // Each instance's node agent runs a Prometheus exporter beside it unless this is true (ADR 0035).
  disableExporter: z.boolean().optional(),
  stop: z.boolean().optional(),
  labels: notHonoured(z.record(z.string(), z.string()), "not copied to the instances (label the Cluster instead)").optional(),
  annotations: notHonoured(z.record(z.string(), z.string()), "not copied to the instances (annotate the Cluster instead)").optional(),
  tls: z.boolean().describe("Serve clients in TLS only (PostgreSQL and Redis refuse plaintext); certificates from issuer.").optional(),
  issuer: issuerSchema.describe("Who issues the serving certificates: KubeBlocks (Holdfast's cluster CA, the default) or UserProvided (secretRef).").optional(),
  configs: z.array(componentConfigSchema).optional(),
  env: notHonoured(z.array(z.unknown()), "environment variables are not passed to the database processes", (value) => Array.isArray(value) && value.length > 0).optional(),
  services: kubernetesOnly("component services (Kubernetes Services)"),
  serviceRefs: notHonoured(z.unknown(), "service references are not resolved").optional(),
  systemAccounts: z.array(componentSystemAccountSchema).describe("The administrator account's password from a Secret (secretRef) or generated under a policy (passwordConfig), when its Secret is made.").optional(),
  volumes: kubernetesOnly("pod volumes"),
  persistentVolumeClaimRetentionPolicy: notHonoured(z.unknown(), "data directories follow terminationPolicy").optional(),
  serviceAccountName: kubernetesOnly("the pod service account"),
  parallelPodManagementConcurrency: kubernetesOnly("parallel pod management"),
  podUpdatePolicy: kubernetesOnly("the pod update policy"),
  instanceUpdateStrategy: kubernetesOnly("the instance update strategy"),
  schedulingPolicy: schedulingPolicySchema.optional(),
  network: kubernetesOnly("pod networking"),
  instances: notHonoured(z.unknown(), "instance templates are not supported: every instance of a component is alike").optional(),
  offlineInstances: notHonoured(z.unknown(), "naming offline instances is not supported: a scale-in removes the highest ordinals").optional(),
  sidecars: kubernetesOnly("sidecar containers"),
  runtimeClassName: kubernetesOnly("the runtime class"),
});

/** What happens to data when the cluster is deleted. `Halt` is gone since KubeBlocks 0.9. */
export const terminationPolicySchema = z.enum(["DoNotTerminate", "Delete", "WipeOut"]);

/** ClusterSpec. */
export const clusterSpecSchema = z.looseObject({
  clusterDef: z.string().describe("The engine: postgresql, redis or mariadb (holdfast engines lists them).").optional(),
  topology: z.string().describe("postgresql: replication (default) or standalone; redis: standalone (default) or replication (with Sentinel).").optional(),
  terminationPolicy: terminationPolicySchema
    .describe("What deleting the cluster does: DoNotTerminate refuses it, Delete removes processes and data, WipeOut also deletes the cluster's Backups.")
    .default("Delete"),
  componentSpecs: z.array(componentSpecSchema).min(1, "a cluster needs at least one component").describe("The cluster's components, merged by name."),
  /** Create the cluster's data from a backup instead of empty (see cluster-restore.ts). */
  restore: clusterRestoreSchema.optional(),
  shardings: refusedWhen(z.array(z.unknown()), (value) => Array.isArray(value) && value.length > 0, "sharded clusters are not supported; use componentSpecs").optional(),
  /** Exposed endpoints (an Expose adds and removes them); each cluster also gets its read-write and read-only endpoints. */
  services: z.array(clusterServiceSchema).optional(),
  schedulingPolicy: schedulingPolicySchema.optional(),
  runtimeClassName: kubernetesOnly("the runtime class"),
  backup: notHonoured(z.unknown(), "not applied: create a BackupSchedule (holdfast backup schedule) instead").optional(),
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
export type ClusterService = z.infer<typeof clusterServiceSchema>;
export type SchedulingPolicy = z.infer<typeof schedulingPolicySchema>;
export type TopologySpreadConstraint = z.infer<typeof topologySpreadConstraintSchema>;
export type TerminationPolicy = z.infer<typeof terminationPolicySchema>;
export type ClusterSpec = z.infer<typeof clusterSpecSchema>;
export type ClusterPhase = z.infer<typeof clusterPhaseSchema>;
export type ClusterInstanceStatus = z.infer<typeof clusterInstanceStatusSchema>;
export type ComponentStatus = z.infer<typeof componentStatusSchema>;
export type ClusterStatus = z.infer<typeof clusterStatusSchema>;
export type Cluster = z.infer<typeof clusterSchema>;
