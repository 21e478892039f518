/**
 * The processes of their own a server starts (the backup's and the restore's, src/child-process), found in /proc by
 * their parent and the script they run.
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
