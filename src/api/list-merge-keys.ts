/**
 * How lists merge in a strategic merge patch and in server-side apply, and how OpenAPI describes them
 * (`x-kubernetes-list-type`, `x-kubernetes-patch-merge-key`): one table, so the server's patches and kubectl's
 * client-side three-way patches agree. Paths are field names from the object's root, without list indices.
 */

/** A list merged by a key field (`componentSpecs` by `name`), or a set of scalars (`finalizers`). */
export type ListMerge = { type: "map"; key: string } | { type: "set" };

const byName: ListMerge = { type: "map", key: "name" };
const byComponent: ListMerge = { type: "map", key: "componentName" };

// Every kind: Kubernetes' ObjectMeta and metav1.Condition lists.
const COMMON: Record<string, ListMerge> = {
  "metadata.finalizers": { type: "set" },
  "metadata.ownerReferences": { type: "map", key: "uid" },
  "status.conditions": { type: "map", key: "type" },
};

// KubeBlocks' `+patchMergeKey`/`+listMapKey` markers on the kinds Holdfast serves.
const BY_KIND: Record<string, Record<string, ListMerge>> = {
  Cluster: {
    "spec.componentSpecs": byName,
    "spec.componentSpecs.volumeClaimTemplates": byName,
    "spec.componentSpecs.env": byName,
    "spec.componentSpecs.services": byName,
    "spec.shardings": byName,
    "spec.shardings.template.volumeClaimTemplates": byName,
    "spec.shardings.template.env": byName,
    "spec.services": byName,
  },
  OpsRequest: {
    "spec.horizontalScaling": byComponent,
    "spec.verticalScaling": byComponent,
    "spec.volumeExpansion": byComponent,
    "spec.restart": byComponent,
    "spec.reconfigures": byComponent,
  },
  BackupPolicy: { "spec.backupMethods": byName },
  BackupSchedule: { "spec.schedules": { type: "map", key: "backupMethod" } },
};

/** How the list at `path` (dotted field names, no indices) of a `kind` object merges; undefined: it is replaced whole. */
export function listMergeOf(kind: string, path: string): ListMerge | undefined {
  return BY_KIND[kind]?.[path] ?? COMMON[path];
}
