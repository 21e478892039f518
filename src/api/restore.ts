/**
 * Restore (dataprotection.kubeblocks.io/v1alpha1), the subset Holdfast honours (ADR 0051): restore `spec.backup` into a
 * NEW cluster named by the annotation `holdfast.io/restore-to-cluster`, shaped like the backed-up cluster, to
 * `spec.restoreTime` with a continuous backup. KubeBlocks' fields that prepare volumes and run jobs in pods are refused
 * at admission naming the field: Holdfast restores through the new cluster's own instances.
 */
import { z } from "zod";
import { conditionSchema, metadataSchema } from "./common.ts";
import { notHonoured, refusedWhen } from "./field-support.ts";

/** The annotation naming the cluster a Restore creates (Holdfast's own; KubeBlocks restores into a cluster's volumes). */
export const RESTORE_TO_CLUSTER_ANNOTATION = "holdfast.io/restore-to-cluster";

const present = (value: unknown): boolean => value !== undefined && value !== null;
const nonEmpty = (value: unknown): boolean => (Array.isArray(value) ? value.length > 0 : typeof value === "object" && value !== null && Object.keys(value).length > 0);
const VOLUMES = "not supported: Holdfast restores into a new cluster named by the annotation holdfast.io/restore-to-cluster, not into volumes";

function refused(message: string, when: (value: unknown) => boolean = present): z.ZodOptional<z.ZodUnknown> {
  return refusedWhen(z.unknown(), when, message).optional();
}

export const restoreSpecSchema = z.looseObject({
  backup: z.looseObject({
    name: z.string().min(1),
    namespace: z.string().min(1).optional(),
    sourceTargetName: notHonoured(z.string(), "not applicable: a backup holds one target, its component's").optional(),
  }),
  /** RFC 3339 or KubeBlocks' `Jan 02,2006 15:04:05 UTC-0700`: restore to this moment from a continuous backup. */
  restoreTime: z.string().min(1).optional(),
  resources: refused("not supported: a Restore restores the whole backup"),
  prepareDataConfig: refused(VOLUMES),
  readyConfig: refused("not supported: the new cluster's instances run the engine's own post-restore steps"),
  serviceAccountName: refused("not supported: no job runs in a pod; the node agent restores as the cluster's OS user"),
  env: refused("not supported: the restore runs with the engine's own settings", nonEmpty),
  containerResources: refused("not supported: no restore container runs; set resources in the cluster", nonEmpty),
  parameters: refused("not supported: the backup methods take no restore parameters", nonEmpty),
  backoffLimit: notHonoured(z.int().min(0), "not applied: a failed restore is retried by the new cluster's instances, as any").optional(),
});

/** Restore phases as KubeBlocks defines them (Holdfast uses Running, Completed and Failed). */
export const restorePhaseSchema = z.enum(["Running", "Completed", "Failed", "AsDataSource"]);

/** One step of a restore (KubeBlocks' RestoreStatusAction), here the new cluster being restored. */
export const restoreActionSchema = z.object({
  name: z.string(),
  objectKey: z.string(),
  status: z.enum(["Processing", "Completed", "Failed"]),
  message: z.string().optional(),
  startTime: z.string().optional(),
  endTime: z.string().optional(),
});

export const restoreStatusSchema = z.object({
  phase: restorePhaseSchema.optional(),
  startTimestamp: z.string().optional(),
  completionTimestamp: z.string().optional(),
  duration: z.string().optional(),
  actions: z.object({ prepareData: z.array(restoreActionSchema).optional(), postReady: z.array(restoreActionSchema).optional() }).optional(),
  conditions: z.array(conditionSchema).optional(),
});

export const restoreSchema = z.object({
  apiVersion: z.literal("dataprotection.kubeblocks.io/v1alpha1"),
  kind: z.literal("Restore"),
  metadata: metadataSchema,
  spec: restoreSpecSchema,
  status: restoreStatusSchema.optional(),
});

export type RestoreSpec = z.infer<typeof restoreSpecSchema>;
export type RestoreStatus = z.infer<typeof restoreStatusSchema>;
export type RestoreAction = z.infer<typeof restoreActionSchema>;
export type Restore = z.infer<typeof restoreSchema>;

/** Label on the cluster a Restore created, naming that Restore. */
export const RESTORE_LABEL = "dataprotection.kubeblocks.io/restore";

/** What a Restore asks for, as the OpsRequest's `RestoreRequest` (undefined without the cluster annotation). */
export function restoreKindRequest(restore: Restore): { clusterName: string; namespace: string; backupName: string; backupNamespace: string; pointInTime: string | undefined; labels: Record<string, string> } | undefined {
  const clusterName = restore.metadata.annotations?.[RESTORE_TO_CLUSTER_ANNOTATION];
  if (clusterName === undefined || clusterName === "") return undefined;
  const namespace = restore.metadata.namespace ?? "default";
  return { clusterName, namespace, backupName: restore.spec.backup.name, backupNamespace: restore.spec.backup.namespace ?? namespace, pointInTime: restore.spec.restoreTime, labels: { [RESTORE_LABEL]: restore.metadata.name } };
}
