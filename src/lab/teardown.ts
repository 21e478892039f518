/**
 * `down`: everything `up` made, in reverse, each step idempotent and none depending on the previous one having
 * worked, so it also finishes an `up` that crashed half-way and can simply be run again.
 */
import { readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { portReservationsDirectory } from "../config/index.ts";
import { removeClusterUsers } from "./cluster-users.ts";
import { mustRun } from "./commands.ts";
import { deleteNamespaces, mountPoints, pidsInNamespace, restoreNetnsDir } from "./network.ts";
import { labNetwork, namespacesOf } from "./plan.ts";
import { processesUnder, terminate } from "./processes.ts";
import type { LabState } from "./state.ts";

/** Every process of the lab: all in its namespaces (nodes, their databases, etcd) and any working under its home. */
export async function labPids(state: Pick<LabState, "home" | "hosts" | "network">): Promise<number[]> {
  const pids = new Set<number>(processesUnder(state.home));
  for (const namespace of namespacesOf(state)) for (const pid of await pidsInNamespace(namespace)) pids.add(pid);
  pids.delete(process.pid);
  return [...pids];
}

function inside(path: string, directory: string): boolean {
  return path === directory || path.startsWith(`${directory}/`);
}

/** Release the host-wide port reservations held by the lab's homes (a reservation file names its home). */
async function releasePorts(home: string): Promise<void> {
  const directory = portReservationsDirectory();
  for (const entry of await readdir(directory).catch(() => [])) {
    const file = join(directory, entry);
    const owner = await readFile(file, "utf8").then((text) => (JSON.parse(text) as { home?: unknown }).home, () => undefined);
    if (typeof owner === "string" && inside(owner, home)) await rm(file, { force: true });
  }
}

/** Unmount whatever is mounted under the lab's home, deepest first. */
async function unmountUnder(home: string): Promise<void> {
  const points = mountPoints().filter((point) => inside(point, home)).sort((a, b) => b.length - a.length);
  for (const point of points) await mustRun(["umount", "--lazy", point]);
}

/** The directories `up` made: the whole home if it made it, else only its own entries in it. */
async function removeDirectories(state: LabState): Promise<void> {
  if (state.createdHome) {
    await rm(state.home, { recursive: true, force: true });
    return;
  }
  for (const entry of ["hosts", "etcd", "admin", "lab.json"]) await rm(join(state.home, entry), { recursive: true, force: true });
}

/** Stop, remove and delete everything of the lab recorded in `state`. */
export async function tearDown(state: LabState, log: (line: string) => void = () => undefined): Promise<void> {
  const pids = await labPids(state);
  log(`stopping ${pids.length} processes`);
  await terminate(pids);
  // Something a dying process started in its last moment: once more, at once.
  await terminate(await labPids(state), 2_000);
  log("removing the clusters' OS users and port reservations");
  for (const host of state.hosts) await removeClusterUsers(host.home);
  await releasePorts(state.home);
  log(`deleting namespaces ${namespacesOf(state).join(", ")}`);
  await deleteNamespaces(labNetwork(state.network), namespacesOf(state));
  await restoreNetnsDir(state.netnsDir);
  await unmountUnder(state.home);
  log(`removing ${state.home}`);
  await removeDirectories(state);
}
