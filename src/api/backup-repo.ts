/**
 * BackupRepo (dataprotection.kubeblocks.io/v1alpha1, cluster-scoped): where backups are stored. Holdfast's built-in
 * storage providers are `local` (config.path: a directory) and `s3` / `minio` (config: bucket, region, endpoint,
 * prefix; credential: a Secret with accessKeyId and secretAccessKey).
 */
import { z } from "zod";
import { conditionSchema, metadataSchema } from "./common.ts";

/** Annotation marking the repository used when a BackupPolicy names none (KubeBlocks' own). */
export const DEFAULT_REPO_ANNOTATION = "dataprotection.kubeblocks.io/is-default-repo";

/** Storage providers this build can write to. */
export const BUILTIN_STORAGE_PROVIDERS = ["local", "s3", "minio"] as const;

export const secretReferenceSchema = z.looseObject({ name: z.string().min(1), namespace: z.string().min(1) });

export const backupRepoSpecSchema = z.looseObject({
  storageProviderRef: z.string().min(1),
  accessMethod: z.enum(["Mount", "Tool"]).default("Tool"),
  config: z.record(z.string(), z.string()).optional(),
  credential: secretReferenceSchema.optional(),
  pvReclaimPolicy: z.enum(["Retain", "Delete"]).default("Retain"),
  volumeCapacity: z.string().optional(),
  pathPrefix: z.string().optional(),
});

export const backupRepoStatusSchema = z.object({
  phase: z.enum(["PreChecking", "Failed", "Ready", "Deleting"]).optional(),
  conditions: z.array(conditionSchema).optional(),
  observedGeneration: z.int().optional(),
  isDefault: z.boolean().optional(),
});

export const backupRepoSchema = z.object({
  apiVersion: z.literal("dataprotection.kubeblocks.io/v1alpha1"),
  kind: z.literal("BackupRepo"),
  metadata: metadataSchema,
  spec: backupRepoSpecSchema,
  status: backupRepoStatusSchema.optional(),
});

export type BackupRepoSpec = z.infer<typeof backupRepoSpecSchema>;
export type BackupRepoStatus = z.infer<typeof backupRepoStatusSchema>;
export type BackupRepo = z.infer<typeof backupRepoSchema>;

/** Is this repository marked as the default? */
export function isDefaultRepo(repo: Pick<BackupRepo, "metadata">): boolean {
  return repo.metadata.annotations?.[DEFAULT_REPO_ANNOTATION] === "true";
}
