/** OpsRequest (operations.kubeblocks.io/v1alpha1): day-2 operations as a state machine in status. */
import { z } from "zod";
import { resourceRequirementsSchema } from "./cluster.ts";
import { conditionSchema, dns1123LabelSchema, metadataSchema, quantitySchema } from "./common.ts";
import { notHonoured, refusedWhen } from "./field-support.ts";
import { retentionPeriodSchema } from "./retention-period.ts";

/** Operation types KubeBlocks defines; Holdfast implements those in SUPPORTED_OPS_TYPES. */
export const opsTypeSchema = z.enum([
  "Start",
  "Stop",
  "Restart",
  "Switchover",
  "HorizontalScaling",
  "VerticalScaling",
  "VolumeExpansion",
  "Reconfiguring",
  "Upgrade",
  "Expose",
  "Backup",
  "Restore",
  "RebuildInstance",
  "Custom",
]);

/** The operation types this build carries out. */
export const SUPPORTED_OPS_TYPES: readonly OpsType[] = ["Start", "Stop", "Restart", "Switchover", "HorizontalScaling", "VerticalScaling", "Reconfiguring", "Expose", "VolumeExpansion", "RebuildInstance", "Upgrade", "Backup", "Restore", "Custom"];

/** The types `cancel: true` stops (KubeBlocks cancels VerticalScaling; Holdfast cancels a Restart too, ADR 0041). */
export const CANCELLABLE_OPS_TYPES: readonly OpsType[] = ["VerticalScaling", "Restart", "RebuildInstance"];

export const componentOpsSchema = z.looseObject({ componentName: z.string().min(1) });

/** A switchover of one component: the role of `instanceName` (the primary) moves to `candidateName`, or to the best replica. */
export const switchoverSchema = z.looseObject({
  componentName: z.string().min(1),
  instanceName: z.string().min(1),
  candidateName: z.string().min(1).optional(),
});

/**
 * A horizontal scaling of one component, as KubeBlocks spells it: a new total (`replicas`) or changes
 * (`scaleOut.replicaChanges`, `scaleIn.replicaChanges`). Fields naming particular instances are accepted
 * here and refused by the controller with the reason (instances are numbered, the highest go first).
 */
export const horizontalScalingSchema = z.looseObject({
  componentName: z.string().min(1),
  replicas: z.int().min(0).optional(),
  scaleOut: z.looseObject({ replicaChanges: z.int().min(0).optional(), newInstances: z.array(z.unknown()).optional(), offlineInstancesToOnline: z.array(z.string()).optional() }).optional(),
  scaleIn: z.looseObject({ replicaChanges: z.int().min(0).optional(), onlineInstancesToOffline: z.array(z.string()).optional() }).optional(),
});

/** A vertical scaling of one component, as KubeBlocks spells it: the requests and limits it is to have. */
export const verticalScalingSchema = z.looseObject({
  componentName: z.string().min(1),
  requests: z.record(z.string(), quantitySchema).optional(),
  limits: z.record(z.string(), quantitySchema).optional(),
  instances: notHonoured(z.array(z.unknown()), "not applied: every instance of a component has the component's resources", (value) => Array.isArray(value) && value.length > 0).optional(),
});

/** A volume expansion of one component, as KubeBlocks spells it: the new size of each named volumeClaimTemplate. */
export const volumeExpansionSchema = z.looseObject({
  componentName: z.string().min(1),
  volumeClaimTemplates: z.array(z.looseObject({ name: z.string().min(1), storage: quantitySchema })).min(1),
  instances: notHonoured(z.array(z.unknown()), "not applied: every instance of a component has the component's volumes", (value) => Array.isArray(value) && value.length > 0).optional(),
});

/** One parameter to set (`value`) or to return to its default (`value` null or absent). */
export const parameterChangeSchema = z.looseObject({
  key: z.string().min(1),
  value: z.string().nullable().optional(),
});

/** A reconfiguration of one component, as KubeBlocks spells it: the parameters to change. */
export const reconfigureSchema = z.looseObject({
  componentName: z.string().min(1),
  parameters: z.array(parameterChangeSchema).min(1),
});

/** One service an Expose enables or disables (KubeBlocks' OpsService). */
export const opsServiceSchema = z.looseObject({
  name: dns1123LabelSchema.max(25, "must be no more than 25 characters"),
  /** primary: the read-write instance; secondary: the ready replicas; absent: primary. */
  roleSelector: z.enum(["primary", "secondary"]).optional(),
  serviceType: notHonoured(z.string(), "not applicable: the endpoint listens on each node's external address (--external-address), whatever the Service type").optional(),
  annotations: notHonoured(z.record(z.string(), z.string()), "not applicable: no cloud load balancer is created", (value) => typeof value === "object" && value !== null && Object.keys(value).length > 0).optional(),
  ports: notHonoured(z.array(z.unknown()), "not applicable: the endpoint's port is allocated by Holdfast and recorded in the Cluster's status").optional(),
  podSelector: notHonoured(z.record(z.string(), z.string()), "not applicable: roleSelector chooses the instances").optional(),
});

/** An Expose of one component's services: `Enable` opens them, `Disable` closes them. */
export const exposeSchema = z.looseObject({
  componentName: z.string().min(1),
  switch: z.enum(["Enable", "Disable"]),
  services: z.array(opsServiceSchema).min(1),
});

/**
 * A rebuild of instances of one component, as KubeBlocks spells it: each listed replica gets new data, copied from
 * the primary, or restored from `backupName` and caught up from the primary (ADR 0045). Holdfast rebuilds in place.
 */
export const rebuildFromSchema = z.looseObject({
  componentName: z.string().min(1),
  instances: z.array(z.looseObject({ name: z.string().min(1), targetNodeName: notHonoured(z.string(), "not applied: an instance is rebuilt on its own node (in place)").optional() })).min(1),
  backupName: z.string().min(1).optional(),
  /** Absent or true: in place, on the instance's node. False (a new instance elsewhere) is refused with the reason. */
  inPlace: z.boolean().optional(),
  restoreEnv: notHonoured(z.array(z.unknown()), "not applied: a replica is restored with the engine's own settings", (value) => Array.isArray(value) && value.length > 0).optional(),
});

/** An upgrade, as KubeBlocks spells it: the service version each listed component is to run. */
export const upgradeSchema = z.looseObject({
  components: z.array(z.looseObject({ componentName: z.string().min(1), serviceVersion: z.string().min(1).optional(), componentDefinitionName: notHonoured(z.string(), "not applied: engine definitions are built in; serviceVersion alone is changed").optional() })).min(1),
});

/**
 * A Backup operation, as KubeBlocks spells it (ADR 0051): the Backup it creates, by default named `<ops>-<timestamp>`,
 * with the policy of the cluster's first component and that policy's first method.
 */
export const opsBackupSchema = z.looseObject({
  backupName: dns1123LabelSchema.optional(),
  backupPolicyName: z.string().min(1).optional(),
  backupMethod: z.string().min(1).optional(),
  deletionPolicy: z.enum(["Delete", "Retain"]).optional(),
  retentionPeriod: retentionPeriodSchema.optional(),
  parentBackupName: z.string().min(1).optional(),
});

/**
 * A Restore operation, as KubeBlocks spells it (ADR 0051): a new cluster named `spec.clusterName`, shaped like the
 * backed-up one, whose data comes from `backupName` (to `restorePointInTime` with a continuous backup).
 */
export const opsRestoreSchema = z.looseObject({
  backupName: z.string().min(1),
  backupNamespace: z.string().min(1).optional(),
  /** RFC 3339 (`2025-01-02T15:04:05Z`) or KubeBlocks' `Jan 02,2025 15:04:05 UTC+0000`. */
  restorePointInTime: z.string().min(1).optional(),
  volumeRestorePolicy: notHonoured(z.enum(["Parallel", "Serial"]), "not applicable: each instance restores its one data directory from the backup").optional(),
  deferPostReadyUntilClusterRunning: notHonoured(z.boolean(), "not applicable: the restored cluster is Running once its data is restored and its instances are ready").optional(),
  env: notHonoured(z.array(z.unknown()), "not applied: the restore runs with the engine's own settings", (value) => Array.isArray(value) && value.length > 0).optional(),
  parameters: notHonoured(z.array(z.unknown()), "not applied: the backup method takes no restore parameters", (value) => Array.isArray(value) && value.length > 0).optional(),
});

/** One component of a Custom operation and its parameters (KubeBlocks' CustomOpsComponent). */
export const customOpsItemSchema = z.looseObject({
  componentName: z.string().min(1),
  parameters: z.array(z.looseObject({
    name: z.string().min(1),
    value: z.string().optional(),
    valueFrom: refusedWhen(z.unknown(), (value) => value !== undefined && value !== null, "is not supported: give the parameter's value").optional(),
  })).optional(),
});

/** A Custom operation, as KubeBlocks spells it (ADR 0054): the OpsDefinition to run on each listed component. */
export const customOpsSchema = z.looseObject({
  opsDefinitionName: z.string().min(1),
  items: z.array(customOpsItemSchema).min(1),
  maxConcurrentComponents: notHonoured(z.unknown(), "not applied: the listed components run their actions at once").optional(),
  serviceAccountName: notHonoured(z.string(), "not applicable: actions run in the instances' own context").optional(),
});

export const opsRequestSpecSchema = z.looseObject({
  clusterName: z.string().min(1),
  type: opsTypeSchema,
  restart: z.array(componentOpsSchema).optional(),
  switchover: z.array(switchoverSchema).optional(),
  horizontalScaling: z.array(horizontalScalingSchema).optional(),
  /** Stop a running operation (CANCELLABLE_OPS_TYPES): Cancelling, then Cancelled once the cluster is consistent again. */
  cancel: z.boolean().optional(),
  /** Skip the pre-checks (the cluster's phase) and do not wait behind running operations: those are Aborted, unless enqueueOnForce. */
  force: z.boolean().optional(),
  enqueueOnForce: z.boolean().optional(),
  /** Seconds the operation may run before it fails; absent or 0: the default (see DEFAULT_OPS_TIMEOUT_SECONDS). */
  timeoutSeconds: z.int().min(0).optional(),
  ttlSecondsAfterSucceed: notHonoured(z.int().min(0), "finished operations are kept until deleted").optional(),
  ttlSecondsAfterUnsuccessfulCompletion: notHonoured(z.int().min(0), "finished operations are kept until deleted").optional(),
  /** Seconds to wait for the cluster to be in a phase the operation can start from (0: it must be now); absent: no pre-check. */
  preConditionDeadlineSeconds: z.int().min(0).optional(),
  // The settings of operation types this build does not carry out: named, so they are not unknown; the type is refused.
  start: notHonoured(z.array(componentOpsSchema), "not applied: Start starts every component of the cluster").optional(),
  stop: notHonoured(z.array(componentOpsSchema), "not applied: Stop stops every component of the cluster").optional(),
  verticalScaling: z.array(verticalScalingSchema).optional(),
  volumeExpansion: z.array(volumeExpansionSchema).optional(),
  reconfigures: z.array(reconfigureSchema).optional(),
  upgrade: upgradeSchema.optional(),
  expose: z.array(exposeSchema).optional(),
  backup: opsBackupSchema.optional(),
  restore: opsRestoreSchema.optional(),
  rebuildFrom: z.array(rebuildFromSchema).optional(),
  custom: customOpsSchema.optional(),
});

/** OpsRequest phases as KubeBlocks defines them. */
export const opsPhaseSchema = z.enum(["Pending", "Creating", "Running", "Cancelling", "Cancelled", "Failed", "Succeed", "Aborted"]);

/** The progress of one object of an operation (KubeBlocks' ProgressStatusDetail). */
export const progressDetailSchema = z.object({
  /** The component. */
  group: z.string().optional(),
  /** The object, e.g. `Instance/pg-cluster-postgresql-0`. */
  objectKey: z.string(),
  status: z.enum(["Pending", "Processing", "Succeed", "Failed", "Cancelled"]),
  message: z.string().optional(),
});

/** What an operation changes, as it was before, per component (KubeBlocks' lastConfiguration). */
export const lastComponentConfigurationSchema = z.looseObject({
  replicas: z.int().optional(),
  resources: resourceRequirementsSchema.optional(),
  /** The component's restart request before a Restart. */
  restartRequest: z.string().optional(),
  /** The volumes a VolumeExpansion grew, with their storage as it was. */
  volumeClaimTemplates: z.array(z.looseObject({ name: z.string(), storage: quantitySchema.optional() })).optional(),
  /** The parameters a Reconfiguring changed, as they were (null: not set). */
  parameters: z.record(z.string(), z.string().nullable()).optional(),
  /** The service version before an Upgrade. */
  serviceVersion: z.string().optional(),
});

export const opsRequestStatusSchema = z.object({
  phase: opsPhaseSchema.optional(),
  progress: z.string().optional(),
  message: z.string().optional(),
  clusterGeneration: z.int().optional(),
  /** What the operation changes, as it was before (KubeBlocks' field): a scaling's starting replicas per component. */
  lastConfiguration: z.looseObject({ components: z.record(z.string(), lastComponentConfigurationSchema).optional() }).optional(),
  progressDetails: z.array(progressDetailSchema).optional(),
  startTimestamp: z.string().optional(),
  completionTimestamp: z.string().optional(),
  conditions: z.array(conditionSchema).optional(),
});

export const opsRequestSchema = z.object({
  apiVersion: z.literal("operations.kubeblocks.io/v1alpha1"),
  kind: z.literal("OpsRequest"),
  metadata: metadataSchema,
  spec: opsRequestSpecSchema,
  status: opsRequestStatusSchema.optional(),
});

export type OpsType = z.infer<typeof opsTypeSchema>;
export type OpsPhase = z.infer<typeof opsPhaseSchema>;
export type OpsRequestSpec = z.infer<typeof opsRequestSpecSchema>;
export type SwitchoverSpec = z.infer<typeof switchoverSchema>;
export type HorizontalScalingSpec = z.infer<typeof horizontalScalingSchema>;
export type VerticalScalingSpec = z.infer<typeof verticalScalingSchema>;
export type ReconfigureSpec = z.infer<typeof reconfigureSchema>;
export type ExposeSpec = z.infer<typeof exposeSchema>;
export type VolumeExpansionSpec = z.infer<typeof volumeExpansionSchema>;
export type RebuildFromSpec = z.infer<typeof rebuildFromSchema>;
export type UpgradeSpec = z.infer<typeof upgradeSchema>;
export type OpsBackupSpec = z.infer<typeof opsBackupSchema>;
export type OpsRestoreSpec = z.infer<typeof opsRestoreSchema>;
export type CustomOpsSpec = z.infer<typeof customOpsSchema>;
export type ProgressDetail = z.infer<typeof progressDetailSchema>;
export type OpsRequestStatus = z.infer<typeof opsRequestStatusSchema>;
export type OpsRequest = z.infer<typeof opsRequestSchema>;
