/**
 * The processes of their own a server starts (the backup's and the restore's, src/child-process), found in /proc by
 * their parent and the script they run. The node agent keeps one of each started ahead of its job (keepSpareProcess):
 * the job goes to it, and another is started a few seconds later.
 */
import { readdir, readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";

/** Pids of `parent`'s children whose command line names `script`. */
export async function childProcesses(parent: number | undefined, script: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const [stat, cmdline] = await Promise.all([readFile(`/proc/${entry}/stat`, "utf8"), readFile(`/proc/${entry}/cmdline`, "utf8")]).catch(() => ["", ""]);
    const parentPid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (parentPid === parent && cmdline.includes(script)) found.push(Number(entry));
  }
  return found;
}

/** Poll every 10 ms for a child of `parent` running `script` and not in `seen`. */
export async function nextChildProcess(parent: number | undefined, script: string, options: { seen?: ReadonlySet<number>; timeoutMs: number; what: string }): Promise<number> {
  const deadline = Date.now() + options.timeoutMs;
  while (Date.now() < deadline) {
    const fresh = (await childProcesses(parent, script)).find((pid) => options.seen?.has(pid) !== true);
    if (fresh !== undefined) return fresh;
    await sleep(10);
  }
  throw new Error(`no ${options.what} started within ${options.timeoutMs} ms`);
}

/**
 * The process a job started now runs in: the one `waiting` for it (the server's children running `script` just before
 * the job was asked for) when there was one, else the next one started.
 */
export async function jobProcess(parent: number | undefined, script: string, waiting: readonly number[], options: { timeoutMs: number; what: string }): Promise<number> {
  return waiting[0] ?? nextChildProcess(parent, script, options);
}

/** After jobs: at most one process of `script` is left, waiting for the next job, and none of those that ran `used`. */
export async function onlyOneWaiting(parent: number | undefined, script: string, used: readonly number[]): Promise<string | undefined> {
  const left = await childProcesses(parent, script);
  if (left.length > 1) return `${left.length} processes of ${script} are left: ${left.join(", ")}`;
  const stale = left.find((pid) => used.includes(pid));
  return stale === undefined ? undefined : `process ${stale}, which ran a job, is still there`;
}
