/**
 * Telling a Sentinel about a scale-in. A Sentinel learns of new replicas by itself (from the master's INFO), but
 * keeps a removed one for ever, down; `SENTINEL RESET` makes it forget and rediscover the ones that remain. The ha
 * controller asks one Sentinel at a time (through its node agent), so the others keep the group's state (and a
 * failover stays possible) meanwhile.
 */
import type { Credentials, GroupMember } from "../types.ts";
import type { RedisTarget } from "./resp.ts";
import { memberAt } from "./sentinel-members.ts";
import { sentinelReplicas, sentinelReset, type SentinelReplicaView } from "./sentinel-probe.ts";

/** The replicas (`host:port`) a Sentinel knows that are not members any more and that it sees down (pure). */
export function departedReplicas(known: readonly SentinelReplicaView[], members: readonly Pick<GroupMember, "host" | "port">[]): string[] {
  const down = (view: SentinelReplicaView): boolean => view.flags.includes("s_down") || view.flags.includes("disconnected");
  return known.filter((view) => memberAt(members, view.host, view.port) === undefined && down(view)).map((view) => `${view.host}:${view.port}`);
}

/** Reset the Sentinel at `sentinel` if it knows a departed replica; what it forgot, or undefined when nothing. Throws UnavailableError when it cannot be asked. */
export async function forgetDepartedReplicas(sentinel: RedisTarget, admin: Credentials, masterName: string, members: readonly GroupMember[]): Promise<string[] | undefined> {
  const departed = departedReplicas(await sentinelReplicas(sentinel, admin, masterName), members);
  if (departed.length === 0) return undefined;
  await sentinelReset(sentinel, admin, masterName);
  return departed;
}
