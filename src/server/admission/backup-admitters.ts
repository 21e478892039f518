/** Admission of the data-protection kinds (dataprotection.kubeblocks.io), and of clusters restored from backups. */
import {
  backupPolicySchema,
  backupRepoSchema,
  backupScheduleSchema,
  backupSchema,
  restoreSourceFor,
  type Backup,
  type BackupPolicy,
  type BackupRepo,
  type BackupSchedule,
  type Cluster,
} from "../../api/index.ts";
import type { FieldCause } from "../../errors/index.ts";
import { backupPolicyReferences, backupReferences, backupRepoReferences, policyReferences } from "./backup-references.ts";
import { backupCauses, backupPolicyCauses, backupRepoCauses, backupScheduleCauses, clusterRestoreCauses } from "./backup-rules.ts";
import type { AdmissionContext, KindAdmitter } from "./types.ts";

function policyOf(context: AdmissionContext, namespace: string | undefined, name: string): Promise<BackupPolicy | undefined> {
  return context.store.get<BackupPolicy>({ kind: "BackupPolicy", namespace: namespace ?? "default", name });
}

const backupRepoAdmitter: KindAdmitter = {
  schema: backupRepoSchema,
  references: (object) => backupRepoReferences(object as BackupRepo),
  validate: (object) => Promise.resolve(backupRepoCauses(object as BackupRepo)),
};

const backupPolicyAdmitter: KindAdmitter = {
  schema: backupPolicySchema,
  references: (object) => backupPolicyReferences(object as BackupPolicy),
  async validate(object, _old, context) {
    const policy = object as BackupPolicy;
    const clusterName = policy.spec.target?.podSelector?.matchLabels?.["app.kubernetes.io/instance"];
    const cluster = clusterName === undefined ? undefined : await context.store.get<Cluster>({ kind: "Cluster", namespace: policy.metadata.namespace ?? "default", name: clusterName });
    return backupPolicyCauses(policy, cluster, context.engines);
  },
};

const backupAdmitter: KindAdmitter = {
  schema: backupSchema,
  references: (object) => backupReferences(object as Backup),
  async validate(object, old, context) {
    const backup = object as Backup;
    const policy = old === undefined ? await policyOf(context, backup.metadata.namespace, backup.spec.backupPolicyName) : undefined;
    return backupCauses(backup, policy, old as Backup | undefined);
  },
};

const backupScheduleAdmitter: KindAdmitter = {
  schema: backupScheduleSchema,
  references: policyReferences,
  async validate(object, _old, context) {
    const schedule = object as BackupSchedule;
    return backupScheduleCauses(schedule, await policyOf(context, schedule.metadata.namespace, schedule.spec.backupPolicyName));
  },
};

/** Admitters of BackupRepo, BackupPolicy, Backup and BackupSchedule. */
export function dataProtectionAdmitters(): [string, KindAdmitter][] {
  return [
    ["BackupRepo", backupRepoAdmitter],
    ["BackupPolicy", backupPolicyAdmitter],
    ["Backup", backupAdmitter],
    ["BackupSchedule", backupScheduleAdmitter],
  ];
}

/** Causes against restoring a new cluster from the backups it names (none when it names none). */
export async function restoreCausesOf(cluster: Cluster, context: AdmissionContext): Promise<FieldCause[]> {
  const backups = new Map<string, Backup | undefined>();
  for (const component of cluster.spec.componentSpecs) {
    let source;
    try {
      source = restoreSourceFor(cluster, component.name);
    } catch {
      continue; // a malformed annotation is reported by clusterRestoreCauses
    }
    if (source === undefined) continue;
    const key = `${source.backupNamespace}/${source.backupName}`;
    if (!backups.has(key)) backups.set(key, await context.store.get<Backup>({ kind: "Backup", namespace: source.backupNamespace, name: source.backupName }));
  }
  const listed = new Map<string, readonly Backup[]>();
  for (const namespace of new Set([...backups.keys()].map((key) => key.split("/")[0] ?? "default"))) {
    listed.set(namespace, (await context.store.list<Backup>("Backup", { namespace })).items);
  }
  return clusterRestoreCauses(cluster, (namespace, name) => backups.get(`${namespace}/${name}`), context.engines, (namespace) => listed.get(namespace) ?? []);
}
