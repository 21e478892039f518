/**
 * Admission of the Restore kind (dataprotection.kubeblocks.io/v1alpha1, ADR 0051): the new cluster its annotation names
 * must not exist, its backup must be restorable and readable by the writer, the cluster it would make must pass cluster
 * admission, and the writer must be allowed to create clusters. Its spec and annotation cannot change afterwards.
 */
import { isDeepStrictEqual } from "node:util";
import { dns1123LabelSchema, restoreKindRequest, RESTORE_TO_CLUSTER_ANNOTATION, restoreSchema, type Backup, type Cluster, type Restore } from "../../api/index.ts";
import type { FieldCause } from "../../errors/index.ts";
import { requireCreate, restoredClusterCauses, restoreTimeCauses, type ClusterCheck } from "./ops-backup-rules.ts";
import { notFoundCause } from "./references.ts";
import type { AdmissionContext, KindAdmitter } from "./types.ts";

const ANNOTATION_FIELD = `metadata.annotations[${RESTORE_TO_CLUSTER_ANNOTATION}]`;

/** Causes against a new Restore before its backup is read (pure): the cluster annotation, a name not taken, a readable time. */
export function restoreKindCauses(restore: Restore, existing: Cluster | undefined): FieldCause[] {
  const target = restore.metadata.annotations?.[RESTORE_TO_CLUSTER_ANNOTATION];
  const causes = restoreTimeCauses(restore.spec.restoreTime, "spec.restoreTime");
  if (target === undefined || !dns1123LabelSchema.safeParse(target).success) {
    const what = target === undefined ? "Required value" : `Invalid value: ${JSON.stringify(target)}`;
    return [{ field: ANNOTATION_FIELD, reason: target === undefined ? "FieldValueRequired" : "FieldValueInvalid", message: `${what}: name the new cluster to restore into (a DNS-1123 label); Holdfast restores a backup into a new cluster, not into volumes` }, ...causes];
  }
  if (existing !== undefined) {
    const namespace = restore.metadata.namespace ?? "default";
    causes.push({ field: ANNOTATION_FIELD, reason: "FieldValueDuplicate", message: `Duplicate value: ${JSON.stringify(target)}: cluster ${namespace}/${target} already exists; a Restore creates a new cluster: name one that does not exist` });
  }
  return causes;
}

/** After creation neither the spec nor the cluster annotation may change. */
function immutableCauses(restore: Restore, old: Restore): FieldCause[] {
  const annotation = (r: Restore): string | undefined => r.metadata.annotations?.[RESTORE_TO_CLUSTER_ANNOTATION];
  if (isDeepStrictEqual(restore.spec, old.spec) && annotation(restore) === annotation(old)) return [];
  return [{ field: "spec", reason: "FieldValueForbidden", message: `Forbidden: a Restore's spec and ${RESTORE_TO_CLUSTER_ANNOTATION} annotation are immutable; create a new Restore instead` }];
}

async function restoreCreateCauses(restore: Restore, context: AdmissionContext, check: ClusterCheck): Promise<FieldCause[]> {
  const request = restoreKindRequest(restore);
  const existing = request === undefined ? undefined : await context.store.get<Cluster>({ kind: "Cluster", namespace: request.namespace, name: request.clusterName });
  const causes = restoreKindCauses(restore, existing);
  if (causes.length > 0 || request === undefined) return causes;
  const backup = await context.store.get<Backup>({ kind: "Backup", namespace: request.backupNamespace, name: request.backupName });
  return backup === undefined ? [] : restoredClusterCauses(request, backup, "spec.backup.name", context, check);
}

/** The Restore kind's admitter; `check` is cluster admission on create. */
export function restoreKindAdmitter(check: ClusterCheck): KindAdmitter {
  return {
    schema: restoreSchema,
    references: (object) => {
      const restore = object as Restore;
      const namespace = restore.spec.backup.namespace ?? restore.metadata.namespace ?? "default";
      const name = restore.spec.backup.name;
      return [{ kind: "Backup", namespace, name, cause: notFoundCause("spec.backup.name", `backup ${namespace}/${name}`, `holdfast backup list -n ${namespace} lists the backups`) }];
    },
    validate: (object, old, context) => (old === undefined ? restoreCreateCauses(object as Restore, context, check) : Promise.resolve(immutableCauses(object as Restore, old as Restore))),
    checkRequester: (object, requester, context) => requireCreate(requester, context, { apiGroup: "apps.kubeblocks.io", resource: "clusters", kind: "Cluster" }, object.metadata.namespace ?? "default", { what: "a Restore", subject: { kind: "Restore", name: object.metadata.name, group: "dataprotection.kubeblocks.io" } }),
  };
}
