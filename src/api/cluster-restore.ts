/**
 * Restoring a new cluster from a backup, as KubeBlocks asks for it: `spec.restore.source` (a Backup), or the
 * `kubeblocks.io/restore-from-backup` annotation naming a backup per component.
 */
import { z } from "zod";

/** KubeBlocks' annotation: `{"<component>": {"name": "<backup>", "namespace": "<ns>"}}` as JSON. */
export const RESTORE_FROM_BACKUP_ANNOTATION = "kubeblocks.io/restore-from-backup";

export const clusterRestoreSchema = z.looseObject({
  source: z.looseObject({
    apiGroup: z.string().optional(),
    kind: z.literal("Backup").default("Backup"),
    name: z.string().min(1),
    namespace: z.string().optional(),
  }),
  parameters: z.record(z.string(), z.string()).optional(),
  /** Point-in-time recovery: the moment (RFC 3339) to restore to, from a continuous backup (Holdfast's field). */
  restoreTime: z.string().optional(),
});

// KubeBlocks' annotation carries the point in time as `restoreTime`.
const annotationEntrySchema = z.looseObject({ name: z.string().min(1), namespace: z.string().optional(), restoreTime: z.string().optional() });
const annotationSchema = z.record(z.string(), annotationEntrySchema);

export type ClusterRestore = z.infer<typeof clusterRestoreSchema>;

/** The backup one component is restored from. */
export interface RestoreSource {
  backupName: string;
  backupNamespace: string;
  /** Restore to this moment (RFC 3339) with a full backup and archived log (point-in-time recovery). */
  restoreTime?: string;
}

/** What `restoreSourceFor` reads of a cluster. */
export interface RestorableCluster {
  metadata: { namespace?: string | undefined; annotations?: Record<string, string> | undefined };
  spec: { restore?: ClusterRestore | undefined; componentSpecs: readonly { name: string }[] };
}

/**
 * The backup a component is restored from, or undefined: the annotation's entry for the component, else
 * `spec.restore`, which applies to the first component (the one holding the data). The namespace defaults to the cluster's.
 */
export function restoreSourceFor(cluster: RestorableCluster, component: string): RestoreSource | undefined {
  const namespace = cluster.metadata.namespace ?? "default";
  const annotated = parseRestoreAnnotation(cluster.metadata.annotations?.[RESTORE_FROM_BACKUP_ANNOTATION]);
  const entry = annotated?.[component];
  if (entry !== undefined) return { backupName: entry.name, backupNamespace: entry.namespace ?? namespace, ...(entry.restoreTime === undefined ? {} : { restoreTime: entry.restoreTime }) };
  const restore = cluster.spec.restore;
  if (restore === undefined || cluster.spec.componentSpecs[0]?.name !== component) return undefined;
  return { backupName: restore.source.name, backupNamespace: restore.source.namespace ?? namespace, ...(restore.restoreTime === undefined ? {} : { restoreTime: restore.restoreTime }) };
}

// Date and time, any fraction (Date checks it), then Z or an offset: a zone is required, so the moment is unambiguous.
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}[.\d]*(?:[Zz]|[+-]\d{2}:\d{2})$/;

/** An RFC 3339 time such as `2025-01-02T15:04:05Z`, or an Error saying how to write one. */
export function parseRestoreTime(value: string): Date {
  const time = RFC3339.test(value) ? new Date(value.replace(" ", "T")) : undefined;
  if (time === undefined || Number.isNaN(time.getTime())) {
    throw new Error(`restore time ${JSON.stringify(value.slice(0, 60))} is not an RFC 3339 time: write it like 2025-01-02T15:04:05Z or 2025-01-02T17:04:05.250+02:00`);
  }
  return time;
}

/** The annotation's value by component, or undefined when absent; throws a message saying what is wrong when malformed. */
export function parseRestoreAnnotation(value: string | undefined): Record<string, { name: string; namespace?: string | undefined; restoreTime?: string | undefined }> | undefined {
  if (value === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    throw new Error(`annotation ${RESTORE_FROM_BACKUP_ANNOTATION} must be JSON such as {"postgresql":{"name":"my-backup","namespace":"demo"}}`);
  }
  const parsed = annotationSchema.safeParse(json);
  if (!parsed.success) throw new Error(`annotation ${RESTORE_FROM_BACKUP_ANNOTATION} must map component names to {"name": BACKUP, "namespace": NS}`);
  return parsed.data;
}
