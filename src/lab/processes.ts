/** Finding and stopping the lab's processes: by namespace, by the directory they work in, SIGTERM then SIGKILL. */
import { readFileSync, readdirSync, readlinkSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { isSameProcess, readProcessStartTicks } from "../runtime/index.ts";

/** A process the lab started, recognised again by its start time (a reused pid is not it). */
export interface LabProcess {
  kind: "etcd" | "server";
  /** The etcd member's or the host's name. */
  name: string;
  namespace: string;
  pid: number;
  startTicks: string;
}

/** Is `pid` running (and not a zombie)? */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^\d+ \(.*\) [ZX] /s.test(stat);
  } catch {
    return false;
  }
}

/** Is the recorded process still that process? */
export async function isLabProcessAlive(process: LabProcess): Promise<boolean> {
  return isRunning(process.pid) && (await isSameProcess(process.pid, process.startTicks));
}

/** Record `pid` with its start time. */
export async function labProcess(kind: LabProcess["kind"], name: string, namespace: string, pid: number): Promise<LabProcess> {
  return { kind, name, namespace, pid, startTicks: (await readProcessStartTicks(pid)) ?? "" };
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Gone already.
  }
}

/** SIGKILL every pid at once (a host lost: nothing gets to clean up). */
export function killNow(pids: readonly number[]): void {
  for (const pid of pids) signal(pid, "SIGKILL");
}

/** SIGTERM (after SIGCONT, in case one is stopped), wait up to `graceMs`, SIGKILL what is left, wait until gone. */
export async function terminate(pids: readonly number[], graceMs = 10_000): Promise<void> {
  for (const pid of pids) {
    signal(pid, "SIGCONT");
    signal(pid, "SIGTERM");
  }
  if (await waitGone(pids, graceMs)) return;
  killNow(pids.filter(isRunning));
  await waitGone(pids, 5_000);
}

async function waitGone(pids: readonly number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(isRunning)) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[1]);
  } catch {
    return undefined;
  }
}

/** This process and its ancestors: a `down` run names the lab home on its own command line and must not stop itself. */
function selfAndAncestors(): Set<number> {
  const chain = new Set<number>();
  let pid: number | undefined = process.pid;
  while (pid !== undefined && pid > 1 && !chain.has(pid)) {
    chain.add(pid);
    pid = parentOf(pid);
  }
  return chain;
}

function isInside(path: string, directory: string): boolean {
  return path === directory || path.startsWith(`${directory}/`);
}

/** Does the process work in, run from, or name on its command line something inside `directory`? */
function touches(pid: string, directory: string): boolean {
  try {
    if (isInside(readlinkSync(`/proc/${pid}/cwd`), directory)) return true;
    if (isInside(readlinkSync(`/proc/${pid}/exe`), directory)) return true;
  } catch {
    // Gone, or a kernel thread.
  }
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    return argv.some((word) => isInside(word, directory) || word.includes(`=${directory}/`) || word.endsWith(`=${directory}`));
  } catch {
    return false;
  }
}

/** Pids of processes (other than this one and its ancestors) working in, run from or naming a path inside `directory`. */
export function processesUnder(directory: string): number[] {
  const exclude = selfAndAncestors();
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || exclude.has(Number(entry))) continue;
    if (touches(entry, directory) && isRunning(Number(entry))) pids.push(Number(entry));
  }
  return pids;
}
