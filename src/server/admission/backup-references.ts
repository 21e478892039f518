/** What the data-protection kinds, and clusters restored from backups, name in other objects (see references.ts). Pure. */
import { restoreSourceFor, type Backup, type BackupPolicy, type BackupRepo, type Cluster, type Resource } from "../../api/index.ts";
import { missingBackupCause, missingPolicyCause, restoreFieldOf } from "./backup-rules.ts";
import { notFoundCause, type ObjectReference } from "./references.ts";

/** The Backups a cluster is restored from, in whatever namespace they are. */
export function clusterRestoreReferences(cluster: Cluster): ObjectReference[] {
  return cluster.spec.componentSpecs.flatMap((component) => {
    let source;
    try {
      source = restoreSourceFor(cluster, component.name);
    } catch {
      return []; // a malformed annotation names nothing; validation reports it
    }
    if (source === undefined) return [];
    const { backupNamespace: namespace, backupName: name } = source;
    return [{ kind: "Backup", namespace, name, cause: missingBackupCause(restoreFieldOf(cluster), namespace, name) }];
  });
}

/** The Secret holding a repository's storage credentials (any namespace). */
export function backupRepoReferences(repo: BackupRepo): ObjectReference[] {
  const credential = repo.spec.credential;
  if (credential === undefined) return [];
  const { namespace, name } = credential;
  return [{ kind: "Secret", namespace, name, cause: notFoundCause("spec.credential.name", `secret ${namespace}/${name}`, `create it first (holdfast get secrets -n ${namespace})`) }];
}

/** The cluster a policy backs up and the Secrets of the accounts it backs up with, in the policy's namespace. */
export function backupPolicyReferences(policy: BackupPolicy): ObjectReference[] {
  const namespace = policy.metadata.namespace ?? "default";
  const references: ObjectReference[] = [];
  const cluster = policy.spec.target?.podSelector?.matchLabels?.["app.kubernetes.io/instance"];
  if (cluster !== undefined) {
    const field = "spec.target.podSelector.matchLabels[app.kubernetes.io/instance]";
    references.push({ kind: "Cluster", namespace, name: cluster, cause: notFoundCause(field, `cluster ${namespace}/${cluster}`, `holdfast get clusters -n ${namespace} lists them`) });
  }
  const targets = [{ field: "spec.target", target: policy.spec.target }, ...policy.spec.backupMethods.map((m, i) => ({ field: `spec.backupMethods[${i}].target`, target: m.target }))];
  for (const { field, target } of targets) {
    const secret = target?.connectionCredential?.secretName;
    if (secret === undefined) continue;
    references.push({ kind: "Secret", namespace, name: secret, cause: notFoundCause(`${field}.connectionCredential.secretName`, `secret ${namespace}/${secret}`, `holdfast get secrets -n ${namespace} lists them`) });
  }
  return references;
}

/** The BackupPolicy a Backup or BackupSchedule names, in its own namespace. */
export function policyReferences(object: Resource & { spec?: { backupPolicyName?: string } }): ObjectReference[] {
  const name = object.spec?.backupPolicyName;
  const namespace = object.metadata.namespace ?? "default";
  return name === undefined ? [] : [{ kind: "BackupPolicy", namespace, name, cause: missingPolicyCause(name, namespace) }];
}

/** A Backup's policy and, for an incremental one, the Backup it builds on (spec.parentBackupName), in its namespace. */
export function backupReferences(backup: Backup): ObjectReference[] {
  const parent = backup.spec.parentBackupName;
  const namespace = backup.metadata.namespace ?? "default";
  const references = policyReferences(backup);
  if (parent !== undefined && parent !== "") references.push({ kind: "Backup", namespace, name: parent, cause: missingBackupCause("spec.parentBackupName", namespace, parent) });
  return references;
}
