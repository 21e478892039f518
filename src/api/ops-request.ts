/** OpsRequest (operations.kubeblocks.io/v1alpha1): day-2 operations as a state machine in status. */
import { z } from "zod";
import { conditionSchema, metadataSchema } from "./common.ts";
import { notHonoured } from "./field-support.ts";

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
export const SUPPORTED_OPS_TYPES: readonly OpsType[] = ["Start", "Stop", "Restart", "Switchover", "HorizontalScaling"];

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

export const opsRequestSpecSchema = z.looseObject({
  clusterName: z.string().min(1),
  type: opsTypeSchema,
  restart: z.array(componentOpsSchema).optional(),
  switchover: z.array(switchoverSchema).optional(),
  horizontalScaling: z.array(horizontalScalingSchema).optional(),
  cancel: notHonoured(z.boolean(), "cancelling a running operation is not supported; it ends by itself or after timeoutSeconds", (value) => value === true).optional(),
  force: notHonoured(z.boolean(), "not applied: an operation always waits for the earlier ones on its cluster", (value) => value === true).optional(),
  enqueueOnForce: notHonoured(z.boolean(), "not applied: operations always queue", (value) => value === true).optional(),
  /** Seconds the operation may run before it fails; absent or 0: the default (see DEFAULT_OPS_TIMEOUT_SECONDS). */
  timeoutSeconds: z.int().min(0).optional(),
  ttlSecondsAfterSucceed: notHonoured(z.int().min(0), "finished operations are kept until deleted").optional(),
  ttlSecondsAfterUnsuccessfulCompletion: notHonoured(z.int().min(0), "finished operations are kept until deleted").optional(),
  preConditionDeadlineSeconds: notHonoured(z.int().min(0), "not applied: an operation waits for the earlier ones on its cluster, and its timeoutSeconds counts from its start").optional(),
  // The settings of operation types this build does not carry out: named, so they are not unknown; the type is refused.
  start: notHonoured(z.array(componentOpsSchema), "not applied: Start starts every component of the cluster").optional(),
  stop: notHonoured(z.array(componentOpsSchema), "not applied: Stop stops every component of the cluster").optional(),
  verticalScaling: z.array(z.unknown()).optional(),
  volumeExpansion: z.array(z.unknown()).optional(),
  reconfigures: z.array(z.unknown()).optional(),
  upgrade: z.unknown().optional(),
  expose: z.array(z.unknown()).optional(),
  backup: z.unknown().optional(),
  restore: z.unknown().optional(),
  rebuildFrom: z.array(z.unknown()).optional(),
  custom: z.unknown().optional(),
});

/** OpsRequest phases as KubeBlocks defines them. */
export const opsPhaseSchema = z.enum(["Pending", "Creating", "Running", "Cancelling", "Cancelled", "Failed", "Succeed", "Aborted"]);

export const opsRequestStatusSchema = z.object({
  phase: opsPhaseSchema.optional(),
  progress: z.string().optional(),
  message: z.string().optional(),
  clusterGeneration: z.int().optional(),
  /** What the operation changes, as it was before (KubeBlocks' field): a scaling's starting replicas per component. */
  lastConfiguration: z.looseObject({ components: z.record(z.string(), z.looseObject({ replicas: z.int().optional() })).optional() }).optional(),
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
export type OpsRequestStatus = z.infer<typeof opsRequestStatusSchema>;
export type OpsRequest = z.infer<typeof opsRequestSchema>;
