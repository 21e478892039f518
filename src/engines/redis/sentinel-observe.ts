/**
 * What one Sentinel says of its group, asked by the node agent that runs it: the master it names and its epoch,
 * whether it sees the quorum, and removed replicas it still watches. One connection, four pipelined questions.
 */
import type { ArbiterObservation, Credentials, GroupMember } from "../types.ts";
import { RespError, type RedisTarget, type RespValue } from "./resp.ts";
import { departedReplicas } from "./sentinel-forget.ts";
import { memberAt } from "./sentinel-members.ts";
import { fieldPairs, parseCkquorum, parseMasterHostPort, parseSentinelReplica } from "./sentinel-probe.ts";
import { askRedis } from "./session.ts";

/** The questions, in the order parseSentinelObservation reads the replies. */
export function observationCommands(masterName: string): string[][] {
  return [["SENTINEL", "GET-MASTER-ADDR-BY-NAME", masterName], ["SENTINEL", "MASTER", masterName], ["SENTINEL", "CKQUORUM", masterName], ["SENTINEL", "REPLICAS", masterName]];
}

function epochOf(reply: RespValue | undefined): number | undefined {
  const epoch = Number(fieldPairs(reply ?? null).get("config-epoch"));
  return Number.isInteger(epoch) && epoch >= 0 ? epoch : undefined;
}

/** The observation the replies to observationCommands stand for, naming members from `members` (pure). */
export function parseSentinelObservation(replies: readonly RespValue[], members: readonly GroupMember[]): ArbiterObservation {
  const [address, master, ckquorum, replicas] = replies;
  const named = parseMasterHostPort(address ?? null);
  const known = Array.isArray(replicas) ? replicas.flatMap((entry) => parseSentinelReplica(entry) ?? []) : [];
  return {
    primary: named === undefined ? undefined : memberAt(members, named.host, named.port)?.name,
    primaryAddress: named === undefined ? undefined : `${named.host}:${named.port}`,
    epoch: epochOf(master),
    quorum: parseCkquorum(ckquorum ?? new RespError("no reply")).ok,
    departed: departedReplicas(known, members),
  };
}

/** Ask the Sentinel at `sentinel`; undefined when it does not answer. Never throws. */
export async function observeSentinel(sentinel: RedisTarget, admin: Credentials, masterName: string, members: readonly GroupMember[]): Promise<ArbiterObservation | undefined> {
  try {
    return parseSentinelObservation(await askRedis(sentinel, admin, observationCommands(masterName), 1000), members);
  } catch {
    return undefined;
  }
}
