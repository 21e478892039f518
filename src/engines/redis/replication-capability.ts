/**
 * Redis' side of the engine's replication contract. Sentinel (the arbiter) decides who is master, so the
 * operations by which Holdfast would decide itself (promote, fence, repoint) refuse: the ha controller never
 * calls them for a component with an arbiter. A new replica needs no copy made for it: it fetches the master's
 * data itself when it starts.
 */
import { ConflictError } from "../../errors/index.ts";
import type { EngineReplication, FailoverCandidate } from "../types.ts";
import { initializeRedis } from "./initialize.ts";
import { REDIS_REPLICATION_ACCOUNT } from "./replication-accounts.ts";
import { probeRedisReplication, toReplicationObservation } from "./replication-info.ts";
import { loopbackTarget } from "./resp.ts";
import { createSentinelArbiter } from "./sentinel-arbiter.ts";

function sentinelDecides(operation: string): never {
  throw new ConflictError(`Sentinel decides which Redis instance is master: Holdfast does not ${operation} by itself; use a Switchover OpsRequest`);
}

/** Replicas with the most of the stream processed first (pure). */
export function rankRedisCandidates(candidates: readonly FailoverCandidate[]): string[] {
  const offset = (c: FailoverCandidate): number => Number(c.observation.applied ?? "-1");
  return candidates
    .filter((c) => c.observation.role === "secondary")
    .sort((a, b) => offset(b) - offset(a) || a.instanceName.localeCompare(b.instanceName))
    .map((c) => c.instanceName);
}

/** The replication capability of the Redis engine, with Sentinel as its arbiter. */
export function createRedisReplication(): EngineReplication {
  return {
    account: REDIS_REPLICATION_ACCOUNT,
    replicaName: (instanceName) => instanceName,
    // INFO replication on the master: `state=online` once the replica has loaded the master's data and follows its stream.
    replicaFollows: (state) => state === "online",
    cloneReplica: (context, _upstream, credentials, host) => initializeRedis(context, [credentials.admin], host),
    configureRole: () => sentinelDecides("choose a role without asking the Sentinels (add the redis-sentinel component)"),
    lastRanAsPrimary: () => Promise.resolve(false),
    async probe(port, admin, nameOfPort, trust) {
      const info = await probeRedisReplication(loopbackTarget(port, trust?.caFile), admin);
      return info === undefined ? undefined : toReplicationObservation(info, nameOfPort ?? (() => undefined));
    },
    promote: () => sentinelDecides("promote a replica"),
    fence: () => sentinelDecides("fence a master"),
    finalPosition: () => Promise.resolve(undefined),
    hasReceived: () => false,
    follow: () => sentinelDecides("repoint a replica"),
    rankCandidates: rankRedisCandidates,
    forgetReplica: () => Promise.resolve(),
    arbiter: createSentinelArbiter(),
  };
}
