/**
 * What the backup controller checks before it hands a new backup to a node agent: its policy, the target instance,
 * the engine's method, the credentials and the repository. It reads objects only: the node agent of the target's
 * node resolves the instance's files and runs the method (src/agent/backup-runner.ts).
 */
import { CLUSTER_SNAPSHOT_ANNOTATION, type Backup, type BackupPolicy, type Cluster, type Instance } from "../../api/index.ts";
import type { BackupKeyring } from "../../backup/index.ts";
import { backupCredentials, findBackupRepo, parentProblem, type IncrementalTarget } from "../../dataprotection/index.ts";
import { errorMessage } from "../../errors/index.ts";
import type { Store } from "../../store/index.ts";
import type { EngineLookup } from "../cluster/index.ts";
import { chooseTarget, type BackupTargetChoice } from "./plan.ts";

/** What resolving needs. */
export interface ResolveDeps {
  store: Store;
  engines: EngineLookup;
  /** Reads the manifests of archived log files (their sealed times and sizes). */
  keyring: BackupKeyring;
}

/** A backup ready to be handed to a node agent: what its status and metadata record. */
export interface ResolvedBackup {
  target: BackupTargetChoice;
  policy: BackupPolicy;
  repoName: string;
  engine: string;
  version: string;
  /** The source cluster's spec as JSON (KubeBlocks' cluster-snapshot annotation), for restores. */
  clusterSnapshot: string | undefined;
}

/** Thrown for problems that fail the backup (as opposed to errors worth retrying). */
export class BackupRefused extends Error {}

/** Everything a new backup is checked for, or why it cannot be taken (which fails it). */
export async function resolveBackup(deps: ResolveDeps, backup: Backup): Promise<ResolvedBackup | { refused: string }> {
  try {
    return await resolve(deps, backup);
  } catch (error) {
    if (error instanceof BackupRefused) return { refused: error.message };
    throw error;
  }
}

async function resolve(deps: ResolveDeps, backup: Backup): Promise<ResolvedBackup> {
  const namespace = backup.metadata.namespace ?? "default";
  const policy = await deps.store.get<BackupPolicy>({ kind: "BackupPolicy", namespace, name: backup.spec.backupPolicyName });
  if (policy === undefined) throw new BackupRefused(`BackupPolicy ${backup.spec.backupPolicyName} not found in namespace ${namespace}; list them with holdfast get backuppolicies -n ${namespace}`);
  const instances = (await deps.store.list<Instance>("Instance", { namespace })).items;
  const target = chooseTarget(backup, policy, instances);
  if ("failure" in target) throw new BackupRefused(target.failure);
  const engine = deps.engines.find(target.instance.spec.engine);
  const method = engine?.backupMethods.find((m) => m.name === backup.spec.backupMethod);
  if (engine === undefined || method === undefined) throw new BackupRefused(`${target.instance.spec.engine} has no backup method ${backup.spec.backupMethod}`);
  const version = (await deps.engines.versions(engine.name)).find((v) => v.version === target.instance.spec.version);
  if (version === undefined) throw new BackupRefused(`${engine.name} ${target.instance.spec.version} is no longer installed on this host`);
  const repo = await findBackupRepo(deps.store, policy.spec.backupRepoName).catch((error: unknown) => {
    throw new BackupRefused(errorMessage(error));
  });
  const account = await backupCredentials(deps.store, policy, namespace);
  if ("problem" in account) throw new BackupRefused(account.problem);
  await assertParent(deps.store, backup, { cluster: target.cluster, component: target.component, method: method.name, repoName: repo.metadata.name });
  const cluster = await deps.store.get<Cluster>({ kind: "Cluster", namespace, name: target.cluster });
  return { target, policy, repoName: repo.metadata.name, engine: engine.name, version: version.version, clusterSnapshot: cluster === undefined ? undefined : JSON.stringify(cluster.spec) };
}

/** An incremental backup's parent must be a Completed backup of the same component, method and repository. */
async function assertParent(store: Store, backup: Backup, target: IncrementalTarget): Promise<void> {
  const parentName = backup.spec.parentBackupName;
  if (parentName === undefined || parentName === "") return;
  const parent = await store.get<Backup>({ kind: "Backup", namespace: backup.metadata.namespace ?? "default", name: parentName });
  const problem = parentProblem(parentName, parent, target);
  if (problem !== undefined) throw new BackupRefused(problem);
}

/** Labels and annotations a started backup carries, as KubeBlocks sets them. */
export function startedMetadata(backup: Backup, resolved: ResolvedBackup): Backup["metadata"] {
  const labels = {
    ...backup.metadata.labels,
    "app.kubernetes.io/instance": resolved.target.cluster,
    "apps.kubeblocks.io/component-name": resolved.target.component,
    "dataprotection.kubeblocks.io/backup-policy": resolved.policy.metadata.name,
    "dataprotection.kubeblocks.io/backup-method": backup.spec.backupMethod,
  };
  const snapshot = resolved.clusterSnapshot;
  const annotations = snapshot === undefined ? backup.metadata.annotations : { ...backup.metadata.annotations, [CLUSTER_SNAPSHOT_ANNOTATION]: snapshot };
  return { ...backup.metadata, labels, ...(annotations === undefined ? {} : { annotations }) };
}
