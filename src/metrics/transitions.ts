/**
 * What finished between two versions of an object (pure): a switchover or failover, a backup, a restore. The metrics
 * count each once, when a watch shows the change; what had finished before the server started is not counted.
 */
import type { Backup, Cluster, Instance, RoleChange } from "../api/index.ts";

/** A switchover or failover that finished. */
export interface FinishedRoleChange {
  reason: "Switchover" | "Failover";
  result: "Succeeded" | "Failed";
  seconds: number | undefined;
}

/** A backup that reached Completed or Failed. */
export interface FinishedBackup {
  method: string;
  outcome: "Succeeded" | "Failed";
  seconds: number | undefined;
  /** Plaintext bytes (Succeeded only). */
  bytes: number | undefined;
  storedBytes: number | undefined;
}

/** A restore of an instance's data from a backup that ended. */
export interface FinishedRestore {
  outcome: "Succeeded" | "Failed";
  seconds: number | undefined;
  bytes: number;
}

/** The condition type the node agent sets when an instance's data is restored (src/agent/restore-data.ts). */
const RESTORED = "Restored";

/** Role changes of `after` that had not finished in `before`. */
export function finishedRoleChanges(before: Cluster | undefined, after: Cluster): FinishedRoleChange[] {
  return Object.entries(after.status?.replication ?? {}).flatMap(([component, replication]) => {
    const change = replication.roleChange;
    if (change === undefined || change.result === "InProgress" || change.finishedAt === undefined) return [];
    if (sameChange(before?.status?.replication?.[component]?.roleChange, change)) return [];
    return [{ reason: change.reason, result: change.result, seconds: secondsBetween(change.startedAt, change.finishedAt) }];
  });
}

function sameChange(earlier: RoleChange | undefined, change: RoleChange): boolean {
  return earlier !== undefined && earlier.startedAt === change.startedAt && earlier.result === change.result;
}

/** The backup's outcome if it reached Completed or Failed in this change. */
export function finishedBackup(before: Backup | undefined, after: Backup): FinishedBackup | undefined {
  const phase = after.status?.phase;
  if (before === undefined || before.status?.phase === phase || !isFinished(phase)) return undefined;
  const seconds = secondsBetween(after.status?.startTimestamp, after.status?.completionTimestamp);
  const method = after.spec.backupMethod;
  if (phase === "Failed") return { method, outcome: "Failed", seconds, bytes: undefined, storedBytes: undefined };
  const run = after.status?.run;
  return { method, outcome: "Succeeded", seconds, bytes: run?.plaintextBytes, storedBytes: run?.storedBytes };
}

/** The restore's outcome if the instance's restore ended in this change (its progress field went away). */
export function finishedRestore(before: Instance | undefined, after: Instance, nowMs: number): FinishedRestore | undefined {
  const progress = before?.status?.restoreProgress;
  if (progress === undefined || after.status?.restoreProgress !== undefined) return undefined;
  const restored = after.status?.conditions?.find((condition) => condition.type === RESTORED);
  return { outcome: restored?.status === "True" ? "Succeeded" : "Failed", seconds: secondsBetween(progress.startedAt, new Date(nowMs).toISOString()), bytes: progress.bytesDone };
}

function isFinished(phase: string | undefined): boolean {
  return phase === "Completed" || phase === "Failed";
}

function secondsBetween(start: string | undefined, end: string | undefined): number | undefined {
  if (start === undefined || end === undefined) return undefined;
  const ms = Date.parse(end) - Date.parse(start);
  return Number.isNaN(ms) || ms < 0 ? undefined : ms / 1000;
}
