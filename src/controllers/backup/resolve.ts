/** Looking up what a new backup needs: its policy, target instance, engine method, credentials and repository. */
import { join } from "node:path";
import { CLUSTER_SNAPSHOT_ANNOTATION, type Backup, type BackupPolicy, type Cluster, type Instance, type Secret } from "../../api/index.ts";
import type { BackupKeyring } from "../../backup/index.ts";
import type { HomePaths } from "../../config/index.ts";
import { backupIdOf, findBackupRepo, openRepository } from "../../dataprotection/index.ts";
import { errorMessage, UnavailableError } from "../../errors/index.ts";
import type { Credentials } from "../../engines/index.ts";
import type { InstanceUsers } from "../../runtime/index.ts";
import type { Store } from "../../store/index.ts";
import type { EngineLookup } from "../cluster/index.ts";
import { instanceContext } from "../../agent/index.ts";
import type { BackupJobSpec } from "./job.ts";
import { chooseTarget, type BackupTargetChoice } from "./plan.ts";

/** What resolving needs. */
export interface ResolveDeps {
  store: Store;
  engines: EngineLookup;
  keyring: BackupKeyring;
  /** Engine tools run as the OS user of the instance they work on. */
  users: InstanceUsers;
  paths: HomePaths;
}

/** A backup ready to start: the job, and what its status and metadata record. */
export interface ResolvedBackup {
  job: BackupJobSpec;
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

/** Everything a new backup needs; BackupRefused when it cannot be taken. */
export async function resolveBackup(deps: ResolveDeps, backup: Backup): Promise<ResolvedBackup> {
  const namespace = backup.metadata.namespace ?? "default";
  const policy = await deps.store.get<BackupPolicy>({ kind: "BackupPolicy", namespace, name: backup.spec.backupPolicyName });
  if (policy === undefined) throw new BackupRefused(`BackupPolicy ${backup.spec.backupPolicyName} not found in namespace ${namespace}; list them with holdfast get backuppolicies -n ${namespace}`);
  const instances = (await deps.store.list<Instance>("Instance", { namespace })).items;
  const target = chooseTarget(backup, policy, instances);
  if ("failure" in target) throw new BackupRefused(target.failure);
  const engine = deps.engines.find(target.instance.spec.engine);
  const method = engine?.backupMethods.find((m) => m.name === backup.spec.backupMethod);
  if (engine === undefined || method === undefined) throw new BackupRefused(`${target.instance.spec.engine} has no backup method ${backup.spec.backupMethod}`);
  const repo = await findBackupRepo(deps.store, policy.spec.backupRepoName).catch((error: unknown) => {
    throw new BackupRefused(errorMessage(error));
  });
  const account = await credentialsOf(deps.store, policy, namespace);
  const instance = await instanceContext(deps.paths, deps.engines, engine, target.instance).catch((error: unknown) => {
    throw error instanceof UnavailableError ? new BackupRefused(error.message) : error;
  });
  const { version } = instance;
  const metadata = { namespace, backup: backup.metadata.name, backupUid: backup.metadata.uid, cluster: target.cluster, component: target.component, instance: target.instance.metadata.name, engine: engine.name, version: version.version, method: method.name };
  const repository = await openRepository(repo, deps.store);
  // The tools run as the instance's user, with a scratch directory of that user's own (the others cannot reach it).
  const user = await deps.users.userOf(target.instance);
  const scratchDirectory = join(deps.paths.backupScratchDir, user.name);
  const job: BackupJobSpec = { backupId: backupIdOf(backup), repository, keyring: deps.keyring, method, instance, account, scratchDirectory, host: await deps.users.hostOf(target.instance), metadata };
  const cluster = await deps.store.get<Cluster>({ kind: "Cluster", namespace, name: target.cluster });
  return { job, target, policy, repoName: repo.metadata.name, engine: engine.name, version: version.version, clusterSnapshot: cluster === undefined ? undefined : JSON.stringify(cluster.spec) };
}

/** The account named by the policy's connection credential. */
async function credentialsOf(store: Store, policy: BackupPolicy, namespace: string): Promise<Credentials> {
  const credential = policy.spec.target?.connectionCredential;
  if (credential === undefined) throw new BackupRefused(`BackupPolicy ${policy.metadata.name} has no target.connectionCredential`);
  const secret = await store.get<Secret>({ kind: "Secret", namespace, name: credential.secretName });
  const read = (key: string): string | undefined => {
    const value = secret?.data?.[key];
    return value === undefined ? undefined : Buffer.from(value, "base64").toString("utf8");
  };
  const username = read(credential.usernameKey);
  const password = read(credential.passwordKey);
  if (username === undefined || password === undefined) throw new BackupRefused(`Secret ${credential.secretName} in namespace ${namespace} lacks ${credential.usernameKey} or ${credential.passwordKey}`);
  return { username, password };
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
