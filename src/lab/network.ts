/**
 * The lab's network, with iproute2: one namespace per host (`hf-lab-N`, an address on `eth0`, loopback up), joined by
 * a bridge that lives in its own namespace (`hf-lab-net`), so the root namespace gets no interface, address or route
 * on the lab network and lab traffic cannot leave it. Network M ≥ 2 has the same shape with `hf-labM-` names.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { UnavailableError } from "../errors/index.ts";
import { mustRun, runCommand } from "./commands.ts";
import { HOST_INTERFACE, SUBNET_BITS, type LabHostPlan, type LabNetwork } from "./plan.ts";

/** Where iproute2 keeps named namespaces (bind mounts of /proc/PID/ns/net). */
export const NETNS_DIR = "/run/netns";

/** `argv` run inside `namespace` (its network stack; the file system and users are the machine's). */
export function inNamespace(namespace: string, argv: readonly string[]): string[] {
  return ["ip", "netns", "exec", namespace, ...argv];
}

/** Names of the named network namespaces on this machine. */
export async function listNamespaces(): Promise<string[]> {
  const stdout = await mustRun(["ip", "netns", "list"]);
  return stdout
    .split("\n")
    .map((line) => line.trim().split(/\s+/)[0] ?? "")
    .filter((name) => name !== "");
}

/** Refuse to make a lab over namespaces that exist already: the lab never adopts what it did not create. */
export async function assertNamespacesFree(names: readonly string[]): Promise<void> {
  const existing = new Set(await listNamespaces());
  const taken = names.filter((name) => existing.has(name));
  if (taken.length > 0) throw new UnavailableError(`network namespaces ${taken.join(", ")} exist already: another lab is up (run npm run lab -- down --home ITS_HOME), or remove them yourself`);
}

/** Whether /run/netns exists and is a mount point now (iproute2 mounts it on first use; `down` undoes what `up` caused). */
export function netnsDirState(): { existed: boolean; mounted: boolean } {
  return { existed: existsSync(NETNS_DIR), mounted: mountPoints().includes(NETNS_DIR) };
}

/** Mount points listed in /proc/mounts (octal escapes decoded). */
export function mountPoints(): string[] {
  return readFileSync("/proc/mounts", "utf8")
    .split("\n")
    .map((line) => (line.split(" ")[1] ?? "").replace(/\\([0-7]{3})/g, (_match, octal: string) => String.fromCharCode(parseInt(octal, 8))))
    .filter((point) => point !== "");
}

/** The bridge namespace of `network` and every host: namespace, veth pair into the bridge, address, links up. */
export async function createNetwork(network: LabNetwork, hosts: readonly LabHostPlan[]): Promise<void> {
  await mustRun(["ip", "netns", "add", network.namespace]);
  await mustRun(["ip", "-n", network.namespace, "link", "add", network.bridge, "type", "bridge"]);
  await mustRun(["ip", "-n", network.namespace, "link", "set", network.bridge, "up"]);
  for (const host of hosts) await createHost(network, host);
}

async function createHost(network: LabNetwork, host: LabHostPlan): Promise<void> {
  await mustRun(["ip", "netns", "add", host.namespace]);
  await mustRun(["ip", "-n", network.namespace, "link", "add", host.bridgePort, "type", "veth", "peer", "name", HOST_INTERFACE, "netns", host.namespace]);
  await mustRun(["ip", "-n", network.namespace, "link", "set", host.bridgePort, "master", network.bridge, "up"]);
  await mustRun(["ip", "-n", host.namespace, "link", "set", "lo", "up"]);
  await mustRun(["ip", "-n", host.namespace, "addr", "add", `${host.address}/${SUBNET_BITS}`, "dev", HOST_INTERFACE]);
  await mustRun(["ip", "-n", host.namespace, "link", "set", HOST_INTERFACE, "up"]);
}

/** Cut a host off the lab network (`down`) or connect it again (`up`), from outside it: its bridge port's link. */
export async function setHostLink(network: LabNetwork, host: Pick<LabHostPlan, "bridgePort">, state: "up" | "down"): Promise<void> {
  await mustRun(["ip", "-n", network.namespace, "link", "set", host.bridgePort, state]);
}

/** Whether the host's bridge port is up (the host is connected). */
export async function hostLinkUp(network: LabNetwork, host: Pick<LabHostPlan, "bridgePort">): Promise<boolean> {
  const result = await runCommand(["ip", "-n", network.namespace, "-o", "link", "show", host.bridgePort]);
  return result.code === 0 && /[<,]UP[,>]/.test(result.stdout);
}

/** Pids of the processes in `namespace` (none when it does not exist). */
export async function pidsInNamespace(namespace: string): Promise<number[]> {
  const result = await runCommand(["ip", "netns", "pids", namespace]);
  if (result.code !== 0) return [];
  return result.stdout
    .split("\n")
    .filter((line) => /^\d+$/.test(line.trim()))
    .map(Number);
}

/** Delete the named namespaces that exist (their veths and the bridge go with them); only names of the lab's network. */
export async function deleteNamespaces(network: LabNetwork, names: readonly string[]): Promise<void> {
  const existing = new Set(await listNamespaces());
  for (const name of names) {
    if (!name.startsWith(network.prefix)) throw new UnavailableError(`refusing to delete namespace ${name}: this lab only removes ${network.prefix}* namespaces`);
    if (existing.has(name)) await mustRun(["ip", "netns", "del", name]);
  }
}

/** Undo iproute2's mount of /run/netns (and the directory) when `up` caused them and no namespace is left in it. */
export async function restoreNetnsDir(before: { existed: boolean; mounted: boolean }): Promise<void> {
  if (!existsSync(NETNS_DIR) || readdirSync(NETNS_DIR).length > 0) return;
  if (!before.mounted) {
    while (mountPoints().includes(NETNS_DIR)) await mustRun(["umount", NETNS_DIR]);
  }
  if (!before.existed) await mustRun(["rmdir", NETNS_DIR]);
}
