/**
 * A rebuild its spec asks of an instance (spec.rebuild, a RebuildInstance: ADR 0045), as its node agent sees it (pure).
 * The agent stops the replica, records that its old data is going (status.rebuild `Rebuilding`), empties its data
 * directory, and starts it the way it starts a new replica: cloned from its running primary, or restored from the
 * backup named and then caught up from the primary. An instance its spec names primary is never rebuilt.
 */
import { instanceRebuildPending, now, type Instance, type InstanceStatus } from "../api/index.ts";

/** Is a rebuild of this instance to be carried out (asked, not finished, and not of the primary)? */
export function rebuildDue(instance: Instance): boolean {
  return instanceRebuildPending(instance) && instance.spec.role !== "primary";
}

/** Has the old data of the rebuild asked for not been removed yet (the next start removes it first)? */
export function rebuildNotBegun(instance: Instance): boolean {
  return rebuildDue(instance) && instance.status?.rebuild?.request !== instance.spec.rebuild?.request;
}

/** The backup a due rebuild restores from, in spec.restore's shape; undefined: from the primary. */
export function rebuildBackup(instance: Instance): NonNullable<Instance["spec"]["restore"]> | undefined {
  return rebuildDue(instance) ? instance.spec.rebuild?.backup : undefined;
}

/** Where a due rebuild takes its data from, for events and status. */
export function rebuildSource(instance: Instance, upstream: string | undefined): string {
  const backup = instance.spec.rebuild?.backup;
  const primary = upstream ?? "the primary its arbiters name";
  return backup === undefined ? `a copy of the primary ${primary}` : `backup ${backup.backupNamespace}/${backup.backupName}, then streaming from ${primary}`;
}

/** status.rebuild once the old data is being removed. */
export function rebuildBegun(instance: Instance, source: string): Pick<InstanceStatus, "rebuild"> {
  return { rebuild: { request: instance.spec.rebuild?.request ?? "", state: "Rebuilding", source, startedAt: now() } };
}

/** status.rebuild once the instance starts on its new data; nothing when no rebuild is due. */
export function rebuildFinished(instance: Instance): Pick<InstanceStatus, "rebuild"> | Record<string, never> {
  const begun = instance.status?.rebuild;
  if (begun === undefined || !rebuildDue(instance) || begun.request !== instance.spec.rebuild?.request) return {};
  return { rebuild: { ...begun, state: "Rebuilt", completedAt: now() } };
}

/** How long a replica runs before its log is read for why it does not stream (before that it may still be connecting). */
export const STRANDED_AFTER_MS = 30_000;

/**
 * Is this running instance a replica that has not streamed from its upstream since its start, long enough that its log
 * may say it never will (the engine's cannotCatchUp)? Then it is rebuilt from its primary by itself.
 */
export function mayBeStranded(instance: Instance, nowMs: number): boolean {
  const state = instance.status?.replicationState;
  const started = Date.parse(instance.status?.startedAt ?? "");
  if (instance.spec.role === "primary" || instance.spec.replication?.upstream === undefined || Number.isNaN(started)) return false;
  return state?.role === "secondary" && state.streamingFrom === undefined && nowMs - started >= STRANDED_AFTER_MS;
}
