/** The per-cluster OS users (`hf-…`) the nodes of a home made for its instances, found from the directories they own. */
import { execFile } from "node:child_process";
import { readdir, stat } from "node:fs/promises";
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

/**
 * Remove the OS users the nodes on `home` made for their clusters (a node removes them itself when a cluster is
 * deleted), first taking back the search permission they were given on the way to the instances. Root only.
 */
export async function removeClusterUsers(home: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  for (const name of await clusterUsersOf(home)) {
    const user = await lookupUser(name).catch(() => undefined);
    if (user !== undefined) await revokeTraversal(join(home, "instances"), user);
    await removeServiceUser(name).catch((error: unknown) => console.error(`could not remove OS user ${name}: ${String(error)}`));
  }
}
