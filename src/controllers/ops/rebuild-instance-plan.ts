/**
 * RebuildInstance, the pure half (ADR 0045): which instances a request rebuilds and why one cannot be, and how far
 * each has come, judged from its Instance (spec.rebuild is what was asked, status.rebuild what its node agent did).
 */
import type { Backup, Cluster, Instance, OpsRequest, ProgressDetail, RebuildFromSpec } from "../../api/index.ts";
import { restartToken, type OpsProgress } from "./progress.ts";

/** One instance to rebuild, and the backup to rebuild it from (none: from its primary). */
export interface RebuildTarget {
  component: string;
  instance: string;
  backup?: { backupName: string; backupNamespace: string };
}

/** What checking a request needs besides the request and the cluster: its instances and the backups it names. */
export interface RebuildWorld {
  instances: readonly Instance[];
  /** The backups named by `backupName`, by name (absent: not found). */
  backups: ReadonlyMap<string, Backup>;
  /** Can the engine's backup method `method` rebuild a replica (its restoreReplica)? */
  methodRebuilds: (engine: string, method: string) => boolean;
}

/** Why one entry of spec.rebuildFrom cannot be carried out, if it cannot. */
function entryProblem(entry: RebuildFromSpec, cluster: Cluster, world: RebuildWorld): string | undefined {
  const component = entry.componentName;
  if (!cluster.spec.componentSpecs.some((c) => c.name === component)) return `component ${component} is not in cluster ${cluster.metadata.name}`;
  if (entry.inPlace === false) return `inPlace: false (a new instance in place of the old one) is not supported: Holdfast rebuilds an instance on its own node; set inPlace: true`;
  const record = cluster.status?.replication?.[component];
  if (record?.currentPrimary === undefined) return `component ${component} has no primary to rebuild a replica from (it is not replicated); restore a standalone instance with a Restore instead`;
  const refused = entry.instances.map((i) => instanceProblem(i.name, component, record, world)).find((p) => p !== undefined);
  if (refused !== undefined) return refused;
  return entry.backupName === undefined ? undefined : backupProblem(entry, cluster, world);
}

/** Why instance `name` of `component` cannot be rebuilt: not one of it, or its primary (current or being made so). */
function instanceProblem(name: string, component: string, record: { currentPrimary?: string | undefined; targetPrimary?: string | undefined }, world: RebuildWorld): string | undefined {
  const instance = world.instances.find((i) => i.metadata.name === name && i.spec.componentName === component);
  if (instance === undefined) return `instance ${name} is not an instance of component ${component}`;
  const primary = name === record.currentPrimary || name === record.targetPrimary || instance.spec.role === "primary";
  return primary ? `instance ${name} is the primary of component ${component}: switch over first (a Switchover OpsRequest with instanceName ${name}), then rebuild it as a replica` : undefined;
}

function backupProblem(entry: RebuildFromSpec, cluster: Cluster, world: RebuildWorld): string | undefined {
  const name = entry.backupName ?? "";
  const backup = world.backups.get(name);
  if (backup === undefined) return `backup ${name} not found in namespace ${cluster.metadata.namespace ?? "default"}`;
  if (backup.status?.phase !== "Completed") return `backup ${name} is ${backup.status?.phase ?? "New"}; a replica is rebuilt from a Completed backup only`;
  const source = backup.status.source;
  const of = `${cluster.metadata.name}/${entry.componentName}`;
  if (source === undefined || `${source.cluster}/${source.component}` !== of) {
    return `backup ${name} was taken of ${source === undefined ? "an unrecorded source" : `${source.cluster}/${source.component}`}, not of ${of}: a replica is rebuilt from a backup of its own component`;
  }
  if (!world.methodRebuilds(source.engine, backup.spec.backupMethod)) return `backup ${name} was taken with ${backup.spec.backupMethod}, which cannot rebuild a replica; leave out backupName to rebuild it from its primary`;
  return undefined;
}

/** The instances to rebuild, or why the request cannot be carried out. */
export function planRebuild(ops: OpsRequest, cluster: Cluster, world: RebuildWorld): { targets: RebuildTarget[] } | { failure: string } {
  const entries = ops.spec.rebuildFrom ?? [];
  if (entries.length === 0) return { failure: "spec.rebuildFrom lists no instance" };
  const targets: RebuildTarget[] = [];
  for (const entry of entries) {
    const problem = entryProblem(entry, cluster, world);
    if (problem !== undefined) return { failure: problem };
    const backup = entry.backupName === undefined ? undefined : { backupName: entry.backupName, backupNamespace: cluster.metadata.namespace ?? "default" };
    for (const { name } of entry.instances) {
      if (targets.some((t) => t.instance === name)) return { failure: `instance ${name} is listed twice` };
      targets.push({ component: entry.componentName, instance: name, ...(backup === undefined ? {} : { backup }) });
    }
  }
  return { targets };
}

/** Does the running replica follow its primary, as the primary reports it (the engine's word, e.g. `streaming`)? */
export type FollowsPrimary = (instance: Instance) => boolean;

/** The instances a request rebuilds (by name), and how to tell that one follows its primary. */
export interface RebuildScope {
  names: readonly string[];
  follows: FollowsPrimary;
}

function rebuildDetail(instance: Instance, token: string, follows: FollowsPrimary): ProgressDetail {
  const base = { group: instance.spec.componentName, objectKey: `Instance/${instance.metadata.name}` };
  const done = instance.status?.rebuild;
  if (instance.spec.rebuild?.request !== token || done?.request !== token) return { ...base, status: "Pending", message: "its old data is still in place; waiting for its primary to run" };
  if (done.state === "Rebuilding") return { ...base, status: "Processing", message: instance.status?.message ?? `rebuilding from ${done.source}` };
  if (instance.status?.ready === true && follows(instance)) return { ...base, status: "Succeed", message: `rebuilt from ${done.source}; it follows its primary` };
  return { ...base, status: "Processing", message: `started on its new data (${done.source}); catching up with its primary` };
}

/** A rebuild failing again and again (a damaged backup, a primary that refuses the copy) fails the request. */
const FAILED_STARTS = 3;

/** How far the rebuild of `names` has come. */
export function rebuildProgress(ops: OpsRequest, cluster: Cluster, instances: readonly Instance[], { names, follows }: RebuildScope): OpsProgress {
  const token = rebuildToken(ops);
  const affected = instances.filter((i) => names.includes(i.metadata.name));
  const details = affected.map((i) => rebuildDetail(i, token, follows)).sort((a, b) => a.objectKey.localeCompare(b.objectKey));
  const done = details.filter((d) => d.status === "Succeed").length;
  const failing = affected.find((i) => i.status?.rebuild?.request === token && i.status.phase === "Failed" && (i.status.consecutiveFailures ?? 0) >= FAILED_STARTS);
  const pending = details.find((d) => d.status !== "Succeed");
  const missing = names.find((n) => !affected.some((i) => i.metadata.name === n));
  return {
    done,
    total: names.length,
    finished: missing === undefined && done === names.length && cluster.status?.phase === "Running",
    details,
    ...(pending === undefined ? {} : { waitingFor: `${pending.objectKey} (${pending.message ?? pending.status})` }),
    ...(failing === undefined ? {} : { failure: `instance ${failing.metadata.name} could not be rebuilt: ${failing.status?.message ?? "unknown reason"}` }),
    ...(missing === undefined ? {} : { failure: `instance ${missing} is gone` }),
  };
}

function cancelDetail(instance: Instance, token: string, follows: FollowsPrimary): ProgressDetail {
  const base = { group: instance.spec.componentName, objectKey: `Instance/${instance.metadata.name}` };
  const begun = instance.status?.rebuild?.request === token;
  const settled = instance.spec.rebuild?.request !== token && instance.status?.ready === true && follows(instance);
  if (!settled) return { ...base, status: "Processing", message: begun ? "its old data was already removed: copying it from its primary" : "returning to its own data" };
  // Once its old data is removed there is nothing to go back to: a rebuild begun is finished (from the primary).
  return begun ? { ...base, status: "Succeed", message: "rebuilt: its old data had been removed when the cancel came" } : { ...base, status: "Cancelled", message: "not rebuilt: it runs on its own data" };
}

/** How far the way back from a cancelled rebuild has come: each replica running on its own data or rebuilt, following its primary. */
export function rebuildCancelProgress(ops: OpsRequest, cluster: Cluster, instances: readonly Instance[], { names, follows }: RebuildScope): OpsProgress {
  const token = rebuildToken(ops);
  const affected = instances.filter((i) => names.includes(i.metadata.name));
  const details = affected.map((i) => cancelDetail(i, token, follows)).sort((a, b) => a.objectKey.localeCompare(b.objectKey));
  const done = details.filter((d) => d.status !== "Processing").length;
  const pending = details.find((d) => d.status === "Processing");
  return {
    done,
    total: affected.length,
    finished: done === affected.length && cluster.status?.phase === "Running",
    details,
    ...(pending === undefined ? {} : { waitingFor: `${pending.objectKey} (${pending.message ?? pending.status})` }),
  };
}

/** The value of spec.rebuild.request: unique per OpsRequest (the same token a Restart writes). */
export function rebuildToken(ops: OpsRequest): string {
  return restartToken(ops);
}

/** The instances a request names. */
export function rebuildNames(ops: OpsRequest): string[] {
  return (ops.spec.rebuildFrom ?? []).flatMap((entry) => entry.instances.map((i) => i.name));
}
