/**
 * Telling the Sentinels about a scale-in. A Sentinel learns of new replicas by itself (from the master's INFO), but
 * keeps a removed one for ever, down; `SENTINEL RESET` makes it forget and rediscover the ones that remain. One
 * Sentinel is reset per call, so the others keep the group's state (and a failover stays possible) meanwhile.
 */
import type { Credentials } from "../types.ts";
import { sentinelReplicas, sentinelReset, type SentinelReplicaView } from "./sentinel-probe.ts";

/** The replicas a Sentinel knows that are not members any more and that it sees down (pure). */
export function departedReplicaPorts(known: readonly SentinelReplicaView[], memberPorts: readonly number[]): number[] {
  const down = (view: SentinelReplicaView): boolean => view.flags.includes("s_down") || view.flags.includes("disconnected");
  return known.filter((view) => !memberPorts.includes(view.port) && down(view)).map((view) => view.port);
}

/** Reset the first Sentinel that knows a departed replica; what it forgot (`port` list), or undefined when none did. Never throws. */
export async function forgetDepartedReplicas(sentinelPorts: readonly number[], admin: Credentials, masterName: string, memberPorts: readonly number[]): Promise<{ sentinelPort: number; ports: number[] } | undefined> {
  for (const sentinelPort of sentinelPorts) {
    try {
      const ports = departedReplicaPorts(await sentinelReplicas(sentinelPort, admin, masterName), memberPorts);
      if (ports.length === 0) continue;
      await sentinelReset(sentinelPort, admin, masterName);
      return { sentinelPort, ports };
    } catch {
      // A Sentinel that cannot be asked now is asked on a later pass.
    }
  }
  return undefined;
}
