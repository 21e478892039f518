/**
 * Backup (ADR 0051): the OpsRequest creates a Backup of its cluster, with the policy and method named or the cluster's
 * defaults, and follows it; the backup controller does the rest. Not cancellable, as in KubeBlocks.
 */
import { backupSchema, opsBackupName, opsBackupObject, opsBackupPolicyName, OPS_NAME_LABEL, type Backup, type BackupPolicy, type Cluster, type OpsRequest } from "../../api/index.ts";
import { AlreadyExistsError } from "../../errors/index.ts";
import type { OpsHandler, OpsServices, OpsStep } from "./handler.ts";
import { backupOpsProgress } from "./backup-restore-plan.ts";
import type { OpsProgress } from "./progress.ts";

export class BackupOps implements OpsHandler {
  readonly startsFrom = ["Running"] as const;
  readonly #services: OpsServices;

  constructor(services: OpsServices) {
    this.#services = services;
  }

  async begin(ops: OpsRequest, cluster: Cluster): Promise<OpsStep> {
    const namespace = ops.metadata.namespace ?? "default";
    const policyName = opsBackupPolicyName(ops, cluster);
    const policy = await this.#services.store.get<BackupPolicy>({ kind: "BackupPolicy", namespace, name: policyName });
    const method = policy?.spec.backupMethods[0]?.name;
    if (method === undefined) return { failure: `backup policy ${policyName} not found (or it has no method) in namespace ${namespace}` };
    const desired = backupSchema.parse(opsBackupObject(ops, cluster, method));
    const live = await this.#services.store.get<Backup>({ kind: "Backup", namespace, name: desired.metadata.name });
    if (live !== undefined) return live.metadata.labels?.[OPS_NAME_LABEL] === ops.metadata.name ? { ops, cluster } : { failure: `backup ${desired.metadata.name} already exists and was not made by this OpsRequest` };
    try {
      await this.#services.store.create(desired);
    } catch (error) {
      if (error instanceof AlreadyExistsError) return this.begin(ops, cluster);
      throw error;
    }
    await this.#services.events.record(ops, "Normal", "BackupCreated", `created backup ${desired.metadata.name} of cluster ${cluster.metadata.name} (policy ${desired.spec.backupPolicyName}, method ${desired.spec.backupMethod})`);
    return { ops, cluster };
  }

  async follow(ops: OpsRequest): Promise<OpsProgress> {
    const name = opsBackupName(ops);
    const backup = await this.#services.store.get<Backup>({ kind: "Backup", namespace: ops.metadata.namespace ?? "default", name });
    return backupOpsProgress(name, backup);
  }
}
