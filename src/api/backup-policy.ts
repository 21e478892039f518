/**
 * BackupPolicy (dataprotection.kubeblocks.io/v1alpha1): which instances of a cluster component are backed up, with
 * which methods, into which repository. Holdfast creates one per component, named as KubeBlocks names it.
 */
import { z } from "zod";
import { conditionSchema, dns1123SubdomainSchema, metadataSchema } from "./common.ts";

/** The label KubeBlocks selects instances by role with. */
export const ROLE_LABEL = "kubeblocks.io/role";
/**
 * Annotation on a BackupPolicy: worker threads that compress, encrypt and hash a backup's chunks (pgBackRest's
 * `process-max`; a whole number from 1 to 16, default the CPUs available, at most 4).
 */
export const BACKUP_PROCESS_MAX_ANNOTATION = "holdfast.io/backup-process-max";

export const labelSelectorRequirementSchema = z.looseObject({
  key: z.string().min(1),
  operator: z.enum(["In", "NotIn", "Exists", "DoesNotExist"]),
  values: z.array(z.string()).optional(),
});

export const labelSelectorSchema = z.looseObject({
  matchLabels: z.record(z.string(), z.string()).optional(),
  matchExpressions: z.array(labelSelectorRequirementSchema).optional(),
});

/** Which pods (instances) to back up: a label selector, a fallback when it matches nothing, and a strategy. */
export const podSelectorSchema = labelSelectorSchema.extend({
  fallbackLabelSelector: labelSelectorSchema.optional(),
  strategy: z.enum(["Any", "All"]).default("Any"),
});

/** Where the credentials to connect with are: a Secret and its keys. */
export const connectionCredentialSchema = z.looseObject({
  secretName: z.string().min(1),
  usernameKey: z.string().default("username"),
  passwordKey: z.string().default("password"),
  hostKey: z.string().optional(),
  portKey: z.string().optional(),
});

export const backupTargetSchema = z.looseObject({
  name: z.string().optional(),
  podSelector: podSelectorSchema.optional(),
  connectionCredential: connectionCredentialSchema.optional(),
  serviceAccountName: z.string().optional(),
});

export const backupMethodSchema = z.looseObject({
  name: dns1123SubdomainSchema,
  snapshotVolumes: z.boolean().optional(),
  actionSetName: z.string().optional(),
  target: backupTargetSchema.optional(),
});

export const backupPolicySpecSchema = z.looseObject({
  backupRepoName: z.string().optional(),
  pathPrefix: z.string().optional(),
  backoffLimit: z.int().min(0).max(10).optional(),
  target: backupTargetSchema.optional(),
  backupMethods: z.array(backupMethodSchema).min(1, "a backup policy needs at least one backup method"),
});

export const backupPolicyStatusSchema = z.object({
  phase: z.enum(["Available", "Failed"]).optional(),
  message: z.string().optional(),
  observedGeneration: z.int().optional(),
  conditions: z.array(conditionSchema).optional(),
});

export const backupPolicySchema = z.object({
  apiVersion: z.literal("dataprotection.kubeblocks.io/v1alpha1"),
  kind: z.literal("BackupPolicy"),
  metadata: metadataSchema,
  spec: backupPolicySpecSchema,
  status: backupPolicyStatusSchema.optional(),
});

export type LabelSelector = z.infer<typeof labelSelectorSchema>;
export type PodSelector = z.infer<typeof podSelectorSchema>;
export type BackupTarget = z.infer<typeof backupTargetSchema>;
export type BackupMethod = z.infer<typeof backupMethodSchema>;
export type BackupPolicySpec = z.infer<typeof backupPolicySpecSchema>;
export type BackupPolicyStatus = z.infer<typeof backupPolicyStatusSchema>;
export type BackupPolicy = z.infer<typeof backupPolicySchema>;

/** The name KubeBlocks gives the policy of one cluster component. */
export function backupPolicyName(cluster: string, component: string): string {
  return `${cluster}-${component}-backup-policy`;
}

/** The target of a method: its own when it has one, else the policy's. */
export function targetOf(policy: Pick<BackupPolicy, "spec">, method: string): BackupTarget | undefined {
  return policy.spec.backupMethods.find((m) => m.name === method)?.target ?? policy.spec.target;
}
