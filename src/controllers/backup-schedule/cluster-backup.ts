/**
 * Cluster.spec.backup, as KubeBlocks reads it: the cluster's backup schedule is kept as the BackupSchedule
 * `<cluster>-<component>-backup-schedule` (owned by the cluster) of each component whose BackupPolicy has the
 * method, and `repoName` is written to those policies. Removing spec.backup leaves the schedule as it was.
 */
import { backupPolicyName, backupScheduleName, clusterBackupSchema, type BackupPolicy, type BackupSchedule, type Cluster, type ClusterBackup } from "../../api/index.ts";
import { AlreadyExistsError } from "../../errors/index.ts";
import type { Store } from "../../store/index.ts";
import { splitKey, type EventRecorder, type ReconcileResult, type Reconciler } from "../runtime/index.ts";

export interface ClusterBackupReconcilerOptions {
  store: Store;
  events: EventRecorder;
}

/** The BackupSchedule spec.backup asks for, for one component's policy (pure). */
export function desiredClusterSchedule(cluster: Cluster, policy: BackupPolicy, component: string, backup: ClusterBackup): BackupSchedule {
  const owner = { apiVersion: cluster.apiVersion, kind: cluster.kind, name: cluster.metadata.name, uid: cluster.metadata.uid ?? "", controller: true, blockOwnerDeletion: true };
  return {
    apiVersion: "dataprotection.kubeblocks.io/v1alpha1",
    kind: "BackupSchedule",
    metadata: {
      name: backupScheduleName(cluster.metadata.name, component),
      namespace: cluster.metadata.namespace ?? "default",
      labels: { "app.kubernetes.io/instance": cluster.metadata.name, "apps.kubeblocks.io/component-name": component },
      ownerReferences: [owner],
    },
    spec: {
      backupPolicyName: policy.metadata.name,
      ...(backup.startingDeadlineMinutes === undefined ? {} : { startingDeadlineMinutes: backup.startingDeadlineMinutes }),
      schedules: [{ backupMethod: backup.method, enabled: backup.enabled, cronExpression: backup.cronExpression, retentionPeriod: backup.retentionPeriod }],
    },
  };
}

export class ClusterBackupReconciler implements Reconciler {
  readonly #o: ClusterBackupReconcilerOptions;

  constructor(options: ClusterBackupReconcilerOptions) {
    this.#o = options;
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const { namespace = "default", name } = splitKey(key);
    const cluster = await this.#o.store.get<Cluster>({ kind: "Cluster", namespace, name });
    const wanted: unknown = cluster?.spec["backup"];
    if (cluster === undefined || cluster.metadata.deletionTimestamp !== undefined || wanted === undefined) return undefined;
    const parsed = clusterBackupSchema.safeParse(wanted);
    if (!parsed.success) {
      await this.#o.events.record(cluster, "Warning", "InvalidBackup", `spec.backup is not applied: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
      return undefined;
    }
    for (const component of cluster.spec.componentSpecs) {
      const policy = await this.#o.store.get<BackupPolicy>({ kind: "BackupPolicy", namespace, name: backupPolicyName(name, component.name) });
      if (policy === undefined || !policy.spec.backupMethods.some((m) => m.name === parsed.data.method)) continue;
      await this.#keepRepo(policy, parsed.data.repoName);
      await this.#keepSchedule(desiredClusterSchedule(cluster, policy, component.name, parsed.data));
    }
    return undefined;
  }

  async #keepRepo(policy: BackupPolicy, repoName: string | undefined): Promise<void> {
    if (repoName === undefined || repoName === "" || policy.spec.backupRepoName === repoName) return;
    await this.#o.store.update<BackupPolicy>({ ...policy, spec: { ...policy.spec, backupRepoName: repoName } });
  }

  async #keepSchedule(desired: BackupSchedule): Promise<void> {
    const key = { kind: "BackupSchedule", namespace: desired.metadata.namespace ?? "default", name: desired.metadata.name };
    const live = await this.#o.store.get<BackupSchedule>(key);
    if (live === undefined) {
      await this.#o.store.create(desired).catch((error: unknown) => {
        if (!(error instanceof AlreadyExistsError)) throw error;
      });
      return;
    }
    if (JSON.stringify(live.spec) === JSON.stringify(desired.spec)) return;
    await this.#o.store.update<BackupSchedule>({ ...live, spec: desired.spec });
  }
}
