/** The lab's etcd: one member in each of the first three hosts, on the hosts' addresses, started inside their namespaces. */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { UnavailableError } from "../errors/index.ts";
import { runCommand, spawnBackground } from "./commands.ts";
import { inNamespace } from "./network.ts";
import { labProcess, type LabProcess } from "./processes.ts";
import type { LabEtcdPlan } from "./plan.ts";

export const ETCD_BINARY = "/usr/bin/etcd";
export const ETCDCTL_BINARY = "/usr/bin/etcdctl";
const HEALTHY_TIMEOUT_MS = 60_000;

/** `--initial-cluster` of the members. */
function initialCluster(members: readonly LabEtcdPlan[]): string {
  return members.map((member) => `${member.name}=${member.peerUrl}`).join(",");
}

/** etcd's flags for `member`; on a data directory that exists already, etcd ignores the initial-cluster ones. */
export function etcdArgs(member: LabEtcdPlan, members: readonly LabEtcdPlan[]): string[] {
  return [
    `--name=${member.name}`,
    `--data-dir=${member.dataDir}`,
    `--listen-client-urls=${member.clientUrl}`,
    `--advertise-client-urls=${member.clientUrl}`,
    `--listen-peer-urls=${member.peerUrl}`,
    `--initial-advertise-peer-urls=${member.peerUrl}`,
    `--initial-cluster=${initialCluster(members)}`,
    "--initial-cluster-token=hf-lab",
    "--initial-cluster-state=new",
    "--logger=zap",
    "--log-level=warn",
  ];
}

/** Start one member inside its host's namespace (in the background, logging to its log file). */
export async function startEtcdMember(member: LabEtcdPlan, members: readonly LabEtcdPlan[]): Promise<LabProcess> {
  await mkdir(dirname(member.dataDir), { recursive: true, mode: 0o700 });
  const pid = spawnBackground(inNamespace(member.namespace, [ETCD_BINARY, ...etcdArgs(member, members)]), member.logFile);
  return labProcess("etcd", member.name, member.namespace, pid);
}

/** Is `member` healthy (answering, with a leader), asked from inside its own namespace? */
export async function etcdMemberHealthy(member: LabEtcdPlan): Promise<boolean> {
  const result = await runCommand(inNamespace(member.namespace, [ETCDCTL_BINARY, `--endpoints=${member.clientUrl}`, "--dial-timeout=2s", "--command-timeout=3s", "endpoint", "health"]), {
    timeoutMs: 10_000,
  });
  return result.code === 0;
}

/** Wait until every member in `members` is healthy. */
export async function waitEtcdHealthy(members: readonly LabEtcdPlan[], timeoutMs = HEALTHY_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const member of members) {
    while (!(await etcdMemberHealthy(member))) {
      if (Date.now() > deadline) throw new UnavailableError(`etcd member ${member.name} (${member.clientUrl} in ${member.namespace}) is not healthy after ${timeoutMs / 1000} s; see ${member.logFile}`);
      await sleep(250);
    }
  }
}

/** Why the lab cannot run etcd here, or undefined. */
export function etcdMissing(): string | undefined {
  const missing = [ETCD_BINARY, ETCDCTL_BINARY].filter((binary) => !existsSync(binary));
  return missing.length === 0 ? undefined : `${missing.join(" and ")} not installed (Debian packages etcd-server and etcd-client)`;
}
