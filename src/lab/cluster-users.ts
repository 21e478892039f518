/** The per-cluster OS users (`hf-…`) the nodes of a home made for its instances, found from the directories they own. */
import { execFile } from "node:child_process";
import { readFile, readdir, readlink, stat } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { lookupUser, removeServiceUser, revokeTraversal } from "../runtime/index.ts";

const execFileAsync = promisify(execFile);

async function userName(uid: number): Promise<string | undefined> {
  try {
    const { stdout } = await execFileAsync("getent", ["passwd", String(uid)]);
    return stdout.split(":")[0];
  } catch {
    return undefined;
  }
}

async function subdirectories(directory: string): Promise<string[]> {
  return (await readdir(directory).catch(() => [])).map((entry) => join(directory, entry));
}

/** Names of the OS users (`hf-…`) owning instance or backup scratch directories of `home`. */
export async function clusterUsersOf(home: string): Promise<Set<string>> {
  const directories: string[] = [];
  for (const namespace of await subdirectories(join(home, "instances"))) directories.push(...(await subdirectories(namespace)));
  directories.push(...(await subdirectories(join(home, "run", "backup"))));
  const names = new Set<string>();
  for (const directory of directories) {
    const uid = await stat(directory).then((found) => found.uid, () => undefined);
    if (uid === undefined || uid === 0) continue;
    const name = await userName(uid);
    if (name?.startsWith("hf-") === true) names.add(name);
  }
  return names;
}

/** Pids of the live processes whose real user id is `uid` (zombies are left to their parent to reap). */
async function processesOf(uid: number): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const status = await readFile(`/proc/${entry}/status`, "utf8").catch(() => "");
    const real = /^Uid:\s+(\d+)/m.exec(status)?.[1];
    const zombie = /^State:\s+Z/m.test(status);
    if (real !== undefined && Number(real) === uid && !zombie) pids.push(Number(entry));
  }
  return pids;
}

/**
 * Kill what still runs as a cluster's OS user: nothing should (the caller stopped the node and its databases), so
 * each survivor is named with its working directory, to tell where it came from.
 */
async function killLeftovers(name: string, uid: number): Promise<void> {
  for (const pid of await processesOf(uid)) {
    const command = (await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "")).split("\0")[0] ?? "";
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => "?");
    console.error(`killing leftover process ${pid} of ${name}: ${command} (cwd ${cwd})`);
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  for (let i = 0; i < 50 && (await processesOf(uid)).length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 100));
}

/**
 * Remove the OS users the nodes on `home` made for their clusters (a node removes them itself when a cluster is
 * deleted), first taking back the search permission they were given on the way to the instances. Root only.
 */
export async function removeClusterUsers(home: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  for (const name of await clusterUsersOf(home)) {
    const user = await lookupUser(name).catch(() => undefined);
    if (user !== undefined) {
      await killLeftovers(name, user.uid);
      await revokeTraversal(join(home, "instances"), user);
    }
    await removeServiceUser(name).catch((error: unknown) => console.error(`could not remove OS user ${name}: ${String(error)}`));
  }
}
