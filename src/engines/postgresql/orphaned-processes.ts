/**
 * What a killed postmaster leaves behind. After `kill -9` its children run on until they notice it is gone:
 * a backend may still commit and a WAL sender may still send that WAL to one standby and take its
 * acknowledgement. Until they are gone the standbys' positions are not final, so a fence ends them.
 */
import { readdir, readFile, readlink, realpath } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import type { HostAccess, InstanceContext } from "../types.ts";

const GONE_TIMEOUT_MS = 5000;
const POLL_MS = 20;

/** Live processes working in `dataDirectory` (a server's processes all run there). Empty where /proc cannot be read. */
export async function processesIn(dataDirectory: string): Promise<number[]> {
  const target = await realpath(dataDirectory).catch(() => dataDirectory);
  const entries = (await readdir("/proc").catch(() => [])).filter((entry) => /^\d+$/.test(entry));
  // Every process is looked at concurrently: a fence waits for this scan, twice.
  const found = await Promise.all(entries.map((entry) => workingIn(entry, target)));
  return found.filter((pid): pid is number => pid !== undefined);
}

/** The pid `entry` when it is a live (not zombie) process whose working directory is `target`. */
async function workingIn(entry: string, target: string): Promise<number | undefined> {
  const cwd = await readlink(`/proc/${entry}/cwd`).catch(() => undefined);
  if (cwd !== target) return undefined;
  const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => undefined);
  // A zombie has nothing left to send; its state letter follows the command name in parentheses.
  if (stat !== undefined && /\)\s+Z/.test(stat.slice(stat.lastIndexOf(")")))) return undefined;
  return Number(entry);
}

/** Kill (as the service user) what still runs in the data directory of a stopped server, and wait until it is gone. */
export async function endOrphanedProcesses(context: InstanceContext, host: HostAccess): Promise<number> {
  const orphans = await processesIn(context.dataDirectory);
  if (orphans.length === 0) return 0;
  await host.run({ command: "kill", args: ["-KILL", ...orphans.map(String)] }, { cwd: context.runDirectory }).catch(() => undefined);
  const deadline = Date.now() + GONE_TIMEOUT_MS;
  while ((await processesIn(context.dataDirectory)).length > 0 && Date.now() < deadline) await sleep(POLL_MS);
  return orphans.length;
}
