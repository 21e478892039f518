/** Who a pid is: start time, state, executable and uid, read from /proc so a reused pid is never mistaken. */
import { readFileSync } from "node:fs";
import { readFile, readlink, realpath } from "node:fs/promises";

/** The fields of /proc/PID/stat the runtime needs. */
export interface ProcessStat {
  /** One-letter state: R, S, D, Z (zombie), X (dead), T, ... */
  state: string;
  /** Process group id. */
  processGroup: number;
  /** Start time in clock ticks since boot (field 22): with the pid, a process' identity. */
  startTicks: string;
}

/** Parse /proc/PID/stat. Fields are counted after the LAST ')', since comm may hold spaces and parens. */
export function parseProcStat(content: string): ProcessStat | undefined {
  const close = content.lastIndexOf(")");
  if (close === -1) return undefined;
  // After "pid (comm)" the fields start at field 3 (state), so field N is at index N - 3.
  const fields = content.slice(close + 1).trim().split(/\s+/);
  const state = fields[0];
  const processGroup = fields[5 - 3];
  const startTicks = fields[22 - 3];
  if (state === undefined || processGroup === undefined || startTicks === undefined || !/^\d+$/.test(startTicks)) return undefined;
  return { state, processGroup: Number(processGroup), startTicks };
}

function isValidPid(pid: number): boolean {
  return Number.isSafeInteger(pid) && pid > 0;
}

/** /proc/PID/stat of a live-or-zombie process, or undefined when there is none. */
export async function readProcessStat(pid: number): Promise<ProcessStat | undefined> {
  if (!isValidPid(pid)) return undefined;
  try {
    return parseProcStat(await readFile(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return undefined;
  }
}

/** Synchronous variant, for reading a just-spawned child before the event loop can reap it. */
export function readProcessStatSync(pid: number): ProcessStat | undefined {
  if (!isValidPid(pid)) return undefined;
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return undefined;
  }
}

/** Is this a process that has finished (a zombie nobody reaped counts as finished)? */
export function isFinished(stat: ProcessStat | undefined): boolean {
  return stat === undefined || stat.state === "Z" || stat.state === "X";
}

/** Start time of `pid` in clock ticks since boot (field 22 of /proc/PID/stat), or undefined when it does not exist. */
export async function readProcessStartTicks(pid: number): Promise<string | undefined> {
  return (await readProcessStat(pid))?.startTicks;
}

/** Is `pid` still the very process that started at `startTicks`, and not finished? */
export async function isSameProcess(pid: number, startTicks: string): Promise<boolean> {
  const stat = await readProcessStat(pid);
  return !isFinished(stat) && stat?.startTicks === startTicks;
}

/** The executable of `pid` (readlink /proc/PID/exe), or undefined when unreadable. */
export async function processExecutable(pid: number): Promise<string | undefined> {
  if (!isValidPid(pid)) return undefined;
  try {
    return await readlink(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}

/** The uids (real, effective, saved, filesystem) of a /proc/PID/status text. */
export function parseStatusUids(content: string): number[] | undefined {
  const line = content.split("\n").find((l) => l.startsWith("Uid:"));
  if (line === undefined) return undefined;
  const uids = line.slice("Uid:".length).trim().split(/\s+/);
  return uids.every((u) => /^\d+$/.test(u)) ? uids.map(Number) : undefined;
}

/** The uids of `pid`, or undefined when it does not exist. */
export async function processUids(pid: number): Promise<number[] | undefined> {
  if (!isValidPid(pid)) return undefined;
  try {
    return parseStatusUids(await readFile(`/proc/${pid}/status`, "utf8"));
  } catch {
    return undefined;
  }
}

/** The canonical path of an executable; the kernel marks a replaced binary " (deleted)", which still names the same program. */
export async function canonicalExecutable(path: string): Promise<string> {
  const live = path.endsWith(" (deleted)") ? path.slice(0, -" (deleted)".length) : path;
  try {
    return await realpath(live);
  } catch {
    return live;
  }
}
