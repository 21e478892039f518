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
});

const annotationEntrySchema = z.looseObject({ name: z.string().min(1), namespace: z.string().optional() });
const annotationSchema = z.record(z.string(), annotationEntrySchema);

export type ClusterRestore = z.infer<typeof clusterRestoreSchema>;

/** The backup one component is restored from. */
export interface RestoreSource {
  backupName: string;
  backupNamespace: string;
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
  if (entry !== undefined) return { backupName: entry.name, backupNamespace: entry.namespace ?? namespace };
  const restore = cluster.spec.restore;
  if (restore === undefined || cluster.spec.componentSpecs[0]?.name !== component) return undefined;
  return { backupName: restore.source.name, backupNamespace: restore.source.namespace ?? namespace };
}

/** The annotation's value by component, or undefined when absent; throws a message saying what is wrong when malformed. */
export function parseRestoreAnnotation(value: string | undefined): Record<string, { name: string; namespace?: string | undefined }> | undefined {
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
