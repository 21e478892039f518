/** Semantic rules of the data-protection kinds. Pure: the objects they refer to are looked up by the caller. */
import { isDeepStrictEqual } from "node:util";
import { isAbsolute } from "node:path";
import {
  BUILTIN_STORAGE_PROVIDERS,
  engineNameFor,
  parseRestoreAnnotation,
  parseRestoreTime,
  RESTORE_FROM_BACKUP_ANNOTATION,
  restoreSourceFor,
  type Backup,
  type BackupPolicy,
  type BackupRepo,
  type BackupSchedule,
  type Cluster,
} from "../../api/index.ts";
import { continuousMethodsOf, planPointInTime } from "../../dataprotection/index.ts";
import type { FieldCause } from "../../errors/index.ts";
import type { EngineDirectory } from "./cluster-rules.ts";

/** A BackupRepo's provider and its configuration. */
export function backupRepoCauses(repo: BackupRepo): FieldCause[] {
  const provider = repo.spec.storageProviderRef;
  const config = repo.spec.config ?? {};
  if (!(BUILTIN_STORAGE_PROVIDERS as readonly string[]).includes(provider)) {
    return [{ field: "spec.storageProviderRef", reason: "FieldValueNotSupported", message: `Unsupported value: ${JSON.stringify(provider)}: storage providers of this build: ${BUILTIN_STORAGE_PROVIDERS.join(", ")}` }];
  }
  if (provider === "local") {
    const path = config["path"];
    return path !== undefined && isAbsolute(path) ? [] : [{ field: "spec.config.path", reason: "FieldValueRequired", message: "Required value: the local provider stores backups in a directory: set spec.config.path to an absolute path" }];
  }
  const causes: FieldCause[] = ["bucket", "endpoint"]
    .filter((key) => config[key] === undefined || config[key] === "")
    .map((key) => ({ field: `spec.config.${key}`, reason: "FieldValueRequired", message: `Required value: the ${provider} provider needs spec.config.${key}` }));
  if (repo.spec.credential === undefined) {
    causes.push({ field: "spec.credential", reason: "FieldValueRequired", message: "Required value: name a Secret (name, namespace) holding accessKeyId and secretAccessKey" });
  }
  return causes;
}

/** A new Backup against its policy (undefined when it does not exist); on update, only deletionPolicy and retentionPeriod may change. */
export function backupCauses(backup: Backup, policy: BackupPolicy | undefined, old?: Backup): FieldCause[] {
  if (old !== undefined) return immutableBackupCauses(backup, old);
  const namespace = backup.metadata.namespace ?? "default";
  if (policy === undefined) return [missingPolicyCause(backup.spec.backupPolicyName, namespace)];
  return methodCauses(policy, backup.spec.backupMethod, "spec.backupMethod");
}

function methodCauses(policy: BackupPolicy, method: string, field: string): FieldCause[] {
  const methods = policy.spec.backupMethods.map((m) => m.name);
  if (methods.includes(method)) return [];
  return [{ field, reason: "FieldValueNotSupported", message: `Unsupported value: ${JSON.stringify(method)}: BackupPolicy ${policy.metadata.name} has methods: ${methods.join(", ")}` }];
}

function immutableBackupCauses(backup: Backup, old: Backup): FieldCause[] {
  const { deletionPolicy: _a, retentionPeriod: _b, ...next } = backup.spec;
  const { deletionPolicy: _c, retentionPeriod: _d, ...previous } = old.spec;
  if (isDeepStrictEqual(next, previous)) return [];
  return [{ field: "spec", reason: "FieldValueForbidden", message: "Forbidden: a Backup's spec is immutable except deletionPolicy and retentionPeriod; create a new Backup instead" }];
}

/** A BackupPolicy's methods must be ones the engine of the component it selects has. */
export function backupPolicyCauses(policy: BackupPolicy, cluster: Cluster | undefined, engines: EngineDirectory): FieldCause[] {
  const component = cluster?.spec.componentSpecs.find((c) => c.name === policy.spec.target?.podSelector?.matchLabels?.["apps.kubeblocks.io/component-name"]);
  if (cluster === undefined || component === undefined) return [];
  const engineName = engineNameFor(cluster, component, engines.list().map((e) => e.name));
  const engine = engineName === undefined ? undefined : engines.find(engineName);
  if (engine === undefined) return [];
  const supported = engine.backupMethods.map((m) => m.name);
  return policy.spec.backupMethods.flatMap((method, i) =>
    supported.includes(method.name)
      ? []
      : [{ field: `spec.backupMethods[${i}].name`, reason: "FieldValueNotSupported", message: `Unsupported value: ${JSON.stringify(method.name)}: ${engine.name} supports: ${supported.join(", ")}` }],
  );
}

/** The answer to a Backup or BackupSchedule whose spec.backupPolicyName names no BackupPolicy (that the writer may read). */
export function missingPolicyCause(name: string, namespace: string): FieldCause {
  return { field: "spec.backupPolicyName", reason: "FieldValueNotFound", message: `Not found: ${JSON.stringify(name)}: no BackupPolicy of that name in namespace ${namespace}; Holdfast creates <cluster>-<component>-backup-policy for every cluster (holdfast get backuppolicies -n ${namespace})` };
}

/** The answer to a restore whose backup does not exist (or is not the writer's to read). */
export function missingBackupCause(field: string, namespace: string, name: string): FieldCause {
  return { field, reason: "FieldValueNotFound", message: `Not found: backup ${namespace}/${name}: list backups with holdfast backup list -n ${namespace}` };
}

/** The field of a cluster naming the backup it restores from. */
export function restoreFieldOf(cluster: Cluster): string {
  return cluster.spec.restore === undefined ? `metadata.annotations[${RESTORE_FROM_BACKUP_ANNOTATION}]` : "spec.restore.source.name";
}

/** A BackupSchedule's policy must exist and have every method it schedules. */
export function backupScheduleCauses(schedule: BackupSchedule, policy: BackupPolicy | undefined): FieldCause[] {
  if (policy === undefined) return [missingPolicyCause(schedule.spec.backupPolicyName, schedule.metadata.namespace ?? "default")];
  return schedule.spec.schedules.flatMap((entry, i) => methodCauses(policy, entry.backupMethod, `spec.schedules[${i}].backupMethod`));
}

/** What restore admission looks up: the backup each restored component names. */
export type BackupLookup = (namespace: string, name: string) => Backup | undefined;

/**
 * A new cluster restored from backups: each must exist, be Completed, and come from the same engine. A point-in-time
 * restore (restoreTime) must name an RFC 3339 time that a full backup plus archived WAL cover (`inNamespace` lists them).
 */
export function clusterRestoreCauses(cluster: Cluster, backups: BackupLookup, engines: EngineDirectory, inNamespace: (namespace: string) => readonly Backup[] = () => []): FieldCause[] {
  try {
    parseRestoreAnnotation(cluster.metadata.annotations?.[RESTORE_FROM_BACKUP_ANNOTATION]);
  } catch (error) {
    return [{ field: `metadata.annotations[${RESTORE_FROM_BACKUP_ANNOTATION}]`, reason: "FieldValueInvalid", message: `Invalid value: ${error instanceof Error ? error.message : String(error)}` }];
  }
  const known = engines.list().map((e) => e.name);
  return cluster.spec.componentSpecs.flatMap((component, index) => {
    const source = restoreSourceFor(cluster, component.name);
    if (source === undefined) return [];
    const field = restoreFieldOf(cluster);
    const backup = backups(source.backupNamespace, source.backupName);
    const id = `${source.backupNamespace}/${source.backupName}`;
    if (backup === undefined) return [missingBackupCause(field, source.backupNamespace, source.backupName)];
    const causes = source.restoreTime === undefined ? completedCauses(backup, id, field) : pointInTimeCauses(backup, source.restoreTime, inNamespace(source.backupNamespace), engines, field);
    if (causes.length > 0) return causes;
    const engine = engineNameFor(cluster, component, known);
    const sourceEngine = backup.status?.source?.engine;
    if (engine !== undefined && sourceEngine !== undefined && engine !== sourceEngine) {
      return [{ field: `spec.componentSpecs[${index}]`, reason: "FieldValueInvalid", message: `Invalid value: backup ${id} is of ${sourceEngine}, but component ${component.name} runs ${engine}` }];
    }
    return [];
  });
}

/** A whole-backup restore reads a Completed backup. */
function completedCauses(backup: Backup, id: string, field: string): FieldCause[] {
  const phase = backup.status?.phase ?? "New";
  return phase === "Completed" ? [] : [{ field, reason: "FieldValueInvalid", message: `Invalid value: backup ${id} is ${phase}: only a Completed backup can be restored` }];
}

/** A point-in-time restore's time must be RFC 3339 and covered; the message names the covered range. */
function pointInTimeCauses(backup: Backup, restoreTime: string, backups: readonly Backup[], engines: EngineDirectory, field: string): FieldCause[] {
  const timeField = field === "spec.restore.source.name" ? "spec.restore.restoreTime" : field;
  let time: Date;
  try {
    time = parseRestoreTime(restoreTime);
  } catch (error) {
    return [{ field: timeField, reason: "FieldValueInvalid", message: `Invalid value: ${error instanceof Error ? error.message : String(error)}` }];
  }
  const known = engines.list().flatMap((entry) => engines.find(entry.name) ?? []);
  const plan = planPointInTime(backup, time, backups, continuousMethodsOf(known));
  return "problem" in plan ? [{ field: timeField, reason: "FieldValueInvalid", message: `Invalid value: ${plan.problem}` }] : [];
}
