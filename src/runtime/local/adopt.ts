/** Re-adopt a server that outlived a control-plane restart, never trusting a stale pid file. */
import { readFile } from "node:fs/promises";
import { canonicalExecutable, isFinished, processExecutable, processUids, readProcessStat } from "./process-identity.ts";
import type { ServiceUser } from "./service-user.ts";

/** A running process known by pid and start time. */
export interface ProcessHandle {
  pid: number;
  startTicks: string;
}

/** The pid on the first line of an engine's pid file (PostgreSQL's postmaster.pid, Redis' pidfile). */
export function parsePidFile(content: string): number | undefined {
  const first = content.split("\n", 1)[0]?.trim() ?? "";
  if (!/^\d{1,10}$/.test(first)) return undefined;
  const pid = Number(first);
  // pid 1 is init: never ours to adopt, and signalling it would be a disaster.
  return pid > 1 && Number.isSafeInteger(pid) ? pid : undefined;
}

async function readPidFile(pidFile: string): Promise<number | undefined> {
  try {
    return parsePidFile(await readFile(pidFile, "utf8"));
  } catch {
    return undefined;
  }
}

async function runsExecutable(pid: number, expectedExecutable: string): Promise<boolean> {
  const actual = await processExecutable(pid);
  if (actual === undefined) return false;
  const [actualPath, expectedPath] = await Promise.all([canonicalExecutable(actual), canonicalExecutable(expectedExecutable)]);
  return actualPath === expectedPath;
}

async function runsAs(pid: number, user: ServiceUser): Promise<boolean> {
  const uids = await processUids(pid);
  return uids !== undefined && uids.length > 0 && uids.every((uid) => uid === user.uid);
}

/**
 * The process named by `pidFile`, if it is alive, runs `expectedExecutable` and runs as `user`;
 * undefined for a stale file, a reused pid or another program.
 */
export async function findAdoptableProcess(pidFile: string, expectedExecutable: string, user: ServiceUser): Promise<ProcessHandle | undefined> {
  const pid = await readPidFile(pidFile);
  if (pid === undefined) return undefined;
  const before = await readProcessStat(pid);
  if (before === undefined || isFinished(before)) return undefined;
  if (!(await runsExecutable(pid, expectedExecutable)) || !(await runsAs(pid, user))) return undefined;
  // The checks above read /proc several times; make sure the pid was not recycled in between.
  const after = await readProcessStat(pid);
  if (isFinished(after) || after?.startTicks !== before.startTicks) return undefined;
  return { pid, startTicks: before.startTicks };
}
