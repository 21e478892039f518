/**
 * Admission of Backup and Restore OpsRequests (ADR 0051): the Backup or Cluster the request will make is built here as
 * the controller builds it and checked as if it were written directly, so a refusal names the OpsRequest's field.
 */
import {
  clusterSchema,
  engineNameFor,
  opsBackupName,
  opsBackupObject,
  opsBackupPolicyName,
  opsRestoreRequest,
  restoredClusterFor,
  parseRestorePointInTime,
  restoreSourceSpec,
  unrestorableReason,
  type Backup,
  type BackupPolicy,
  type Cluster,
  type OpsRequest,
  type RestoreRequest,
} from "../../api/index.ts";
import { ForbiddenError, type FieldCause } from "../../errors/index.ts";
import type { Requester } from "../../security/index.ts";
import { backupCauses } from "./backup-rules.ts";
import { notFoundCause, type ObjectReference } from "./references.ts";
import type { AdmissionContext } from "./types.ts";

/** Checks a Cluster as its own admission would on create (the Restore's new cluster). */
export type ClusterCheck = (cluster: Cluster, context: AdmissionContext) => Promise<FieldCause[]>;

/** `spec.X` of the made object → `spec.<section>.X` of the OpsRequest. */
function underSection(section: "backup" | "restore", causes: readonly FieldCause[]): FieldCause[] {
  return causes.map((c) => ({ ...c, field: c.field.replace(/^spec\./, `spec.${section}.`) }));
}

/** Causes against a Backup OpsRequest: its policy, a method that completes, and a name not taken yet (pure). */
export function opsBackupCauses(ops: OpsRequest, cluster: Cluster, policy: BackupPolicy | undefined, taken: Backup | undefined, continuous?: (method: string) => boolean): FieldCause[] {
  const namespace = ops.metadata.namespace ?? "default";
  const policyName = opsBackupPolicyName(ops, cluster);
  if (policy === undefined) {
    const hint = ops.spec.backup?.backupPolicyName === undefined ? `cluster ${cluster.metadata.name} has no default backup policy ${policyName}; name one in spec.backup.backupPolicyName (holdfast get backuppolicies -n ${namespace})` : `holdfast get backuppolicies -n ${namespace} lists them`;
    return [notFoundCause("spec.backup.backupPolicyName", `backuppolicy ${namespace}/${policyName}`, hint)];
  }
  const backup = opsBackupObject(ops, cluster, policy.spec.backupMethods[0]?.name ?? "");
  const causes = underSection("backup", backupCauses(backup, policy));
  if (continuous?.(backup.spec.backupMethod) === true) {
    causes.push({ field: "spec.backup.backupMethod", reason: "FieldValueNotSupported", message: `Unsupported value: ${JSON.stringify(backup.spec.backupMethod)}: a continuous method never completes; it runs from a BackupSchedule (holdfast backup schedule)` });
  }
  if (taken !== undefined) causes.push({ field: "spec.backup.backupName", reason: "FieldValueDuplicate", message: `Duplicate value: ${JSON.stringify(opsBackupName(ops))}: backup ${namespace}/${taken.metadata.name} already exists; name another in spec.backup.backupName` });
  return causes;
}

/** Causes against a Restore OpsRequest before its backup is read: a restore section, a cluster name not taken, a readable time (pure). */
export function opsRestoreCauses(ops: OpsRequest, existing: Cluster | undefined): FieldCause[] {
  const namespace = ops.metadata.namespace ?? "default";
  const causes: FieldCause[] = [];
  if (existing !== undefined) {
    causes.push({ field: "spec.clusterName", reason: "FieldValueDuplicate", message: `Duplicate value: ${JSON.stringify(ops.spec.clusterName)}: cluster ${namespace}/${ops.spec.clusterName} already exists; a Restore creates a new cluster: name one that does not exist` });
  }
  const restore = ops.spec.restore;
  if (restore === undefined) return [...causes, { field: "spec.restore", reason: "FieldValueRequired", message: "Required value: name the backup to restore, e.g. {backupName: my-backup}" }];
  return [...causes, ...restoreTimeCauses(restore.restorePointInTime, "spec.restore.restorePointInTime")];
}

/** Causes against the backup a restore names and the cluster it would make, under `field` (pure but for `check`). */
export async function restoredClusterCauses(request: RestoreRequest, backup: Backup, field: string, context: AdmissionContext, check: ClusterCheck): Promise<FieldCause[]> {
  const unrestorable = unrestorableReason(backup, request.pointInTime !== undefined);
  if (unrestorable !== undefined) return [{ field, reason: "FieldValueInvalid", message: `Invalid value: ${unrestorable}` }];
  const spec = await restoreSourceSpec(backup, (name) => context.store.get<Cluster>({ kind: "Cluster", namespace: request.backupNamespace, name }));
  if (spec === undefined) return [{ field, reason: "FieldValueInvalid", message: `Invalid value: backup ${backup.metadata.name} does not record the cluster it was taken from; create the Cluster yourself with spec.restore.source.name` }];
  let manifest;
  try {
    manifest = restoredClusterFor(request, spec);
  } catch {
    return []; // an unreadable time is named by its own field
  }
  const parsed = clusterSchema.safeParse(manifest);
  const causes = parsed.success ? await check(parsed.data, context) : parsed.error.issues.map((i) => ({ field: i.path.join("."), message: i.message }));
  return causes.map((c) => ({ field, reason: "FieldValueInvalid", message: `Invalid value: the cluster restored from this backup would be refused: ${c.field}: ${c.message}` }));
}

/** A restore time cause under `field`, or none. */
export function restoreTimeCauses(value: string | undefined, field: string): FieldCause[] {
  if (value === undefined) return [];
  try {
    parseRestorePointInTime(value);
    return [];
  } catch (error) {
    return [{ field, reason: "FieldValueInvalid", message: `Invalid value: ${error instanceof Error ? error.message : String(error)}` }];
  }
}

/** Every cause against a Backup or Restore OpsRequest (none for other types); `cluster` is its spec.clusterName's. */
export async function opsDataProtectionCauses(ops: OpsRequest, cluster: Cluster | undefined, context: AdmissionContext, check: ClusterCheck): Promise<FieldCause[]> {
  const namespace = ops.metadata.namespace ?? "default";
  if (ops.spec.type === "Backup" && cluster !== undefined) {
    const policy = await context.store.get<BackupPolicy>({ kind: "BackupPolicy", namespace, name: opsBackupPolicyName(ops, cluster) });
    const taken = await context.store.get<Backup>({ kind: "Backup", namespace, name: opsBackupName(ops) });
    return opsBackupCauses(ops, cluster, policy, taken, (method) => continuousMethod(cluster, method, context));
  }
  if (ops.spec.type !== "Restore") return [];
  const causes = opsRestoreCauses(ops, cluster);
  const request = opsRestoreRequest(ops);
  if (causes.length > 0 || request === undefined) return causes;
  const backup = await context.store.get<Backup>({ kind: "Backup", namespace: request.backupNamespace, name: request.backupName });
  // A missing backup is named by the reference check, before validation.
  return backup === undefined ? [] : restoredClusterCauses(request, backup, "spec.restore.backupName", context, check);
}

/** Whether `method` of the cluster's first component's engine is continuous (it archives a log and never completes). */
function continuousMethod(cluster: Cluster, method: string, context: AdmissionContext): boolean {
  const component = cluster.spec.componentSpecs[0];
  const name = component === undefined ? undefined : engineNameFor(cluster, component, context.engines.list().map((e) => e.name));
  const engine = name === undefined ? undefined : context.engines.find(name);
  return engine?.backupMethods.find((m) => m.name === method)?.continuous !== undefined;
}

/** The objects a Backup or Restore OpsRequest names, read on the requester's behalf (references.ts). */
export function opsDataProtectionReferences(ops: OpsRequest): ObjectReference[] {
  const namespace = ops.metadata.namespace ?? "default";
  const restore = ops.spec.restore;
  if (ops.spec.type === "Restore" && restore !== undefined) {
    const backupNamespace = restore.backupNamespace ?? namespace;
    return [{ kind: "Backup", namespace: backupNamespace, name: restore.backupName, cause: notFoundCause("spec.restore.backupName", `backup ${backupNamespace}/${restore.backupName}`, `holdfast backup list -n ${backupNamespace} lists the backups`) }];
  }
  const parent = ops.spec.backup?.parentBackupName;
  if (ops.spec.type !== "Backup" || parent === undefined) return [];
  return [{ kind: "Backup", namespace, name: parent, cause: notFoundCause("spec.backup.parentBackupName", `backup ${namespace}/${parent}`, `holdfast backup list -n ${namespace} lists the backups`) }];
}

/** What a kind of object makes, and how a refusal names it. */
interface Made {
  apiGroup: string;
  resource: string;
  kind: string;
}

/** Refuse (403) a requester who may not create what the written object will make in `namespace`. */
export async function requireCreate(requester: Requester, context: AdmissionContext, made: Made, namespace: string, by: { what: string; subject: { kind: string; name: string; group: string } }): Promise<void> {
  const decision = await context.authorizer.authorize(requester, { verb: "create", apiGroup: made.apiGroup, resource: made.resource, namespace });
  if (decision.allowed) return;
  throw new ForbiddenError(`${by.what} creates a ${made.kind}, and you may not create ${made.resource} in namespace ${namespace}`, { subject: by.subject });
}

/** What the OpsRequest makes, the requester must be allowed to create: a Backup for a Backup, a Cluster for a Restore. */
export async function checkOpsCreator(ops: OpsRequest, requester: Requester, context: AdmissionContext): Promise<void> {
  const made: Made | undefined = ops.spec.type === "Backup" ? { apiGroup: "dataprotection.kubeblocks.io", resource: "backups", kind: "Backup" } : ops.spec.type === "Restore" ? { apiGroup: "apps.kubeblocks.io", resource: "clusters", kind: "Cluster" } : undefined;
  if (made === undefined) return;
  await requireCreate(requester, context, made, ops.metadata.namespace ?? "default", { what: `a ${ops.spec.type} OpsRequest`, subject: { kind: "OpsRequest", name: ops.metadata.name, group: "operations.kubeblocks.io" } });
}
