/** The decisions of a switchover, apart from the I/O: who may be promoted, who must be kept from it. */
import { InvalidError, UnavailableError } from "../../errors/index.ts";
import type { RedisReplicationInfo } from "./replication-info.ts";
import type { SentinelReplicaView } from "./sentinel-probe.ts";

/** An instance other than the master, with what it answered (undefined: unreachable). */
export interface ObservedInstance {
  port: number;
  info: RedisReplicationInfo | undefined;
}

/** Is `info` a replica of the master on `masterPort` with a live link and no full sync running? */
function inSync(info: RedisReplicationInfo | undefined, masterPort: number): boolean {
  return info?.role === "replica" && info.masterPort === masterPort && info.linkUp && !info.syncInProgress;
}

/** In-sync replicas of the master, most data first (largest offset, then lowest port) (pure). */
function rankInSync(masterPort: number, others: readonly ObservedInstance[]): number[] {
  return others
    .filter((o) => inSync(o.info, masterPort))
    .sort((a, b) => (b.info?.offset ?? 0) - (a.info?.offset ?? 0) || a.port - b.port)
    .map((o) => o.port);
}

/**
 * The replica to promote (pure): the candidate when one is asked for, else the in-sync replica with the most
 * data. Holdfast chooses even without a candidate because Sentinel ranks replicas on what it last read from
 * them, up to ten seconds old; the choice is then enforced through priorities. Throws InvalidError when the
 * candidate is the master or not an instance, UnavailableError when it (or, without one, every replica) is not
 * streaming from the master.
 */
export function chooseSwitchoverCandidate(masterPort: number, others: readonly ObservedInstance[], candidatePort?: number): number {
  if (candidatePort === masterPort) {
    throw new InvalidError(`the candidate on port ${candidatePort} is already the primary: name another instance or none`, {
      causes: [{ field: "candidateName", message: "is already the primary" }],
    });
  }
  if (candidatePort !== undefined && !others.some((o) => o.port === candidatePort)) {
    throw new InvalidError(`no instance of the component listens on port ${candidatePort}: name one of its instances`, {
      causes: [{ field: "candidateName", message: "is not an instance of the component" }],
    });
  }
  const ranked = rankInSync(masterPort, others);
  if (candidatePort === undefined) {
    const best = ranked[0];
    if (best === undefined) throw new UnavailableError("no replica is streaming from the primary: wait until one is in sync, then retry");
    return best;
  }
  if (!ranked.includes(candidatePort)) {
    throw new UnavailableError(`the candidate on port ${candidatePort} is not streaming from the primary: wait until it is in sync, then retry`);
  }
  return candidatePort;
}

/** Instances Sentinel must not pick during the switchover (priority 0): every one but the master and the candidate (pure). */
export function instancesToExclude(instancePorts: readonly number[], masterPort: number, candidatePort: number): number[] {
  return instancePorts.filter((port) => port !== masterPort && port !== candidatePort);
}

/** Does a Sentinel's view of the priorities already enforce the choice of `candidatePort` (pure)? */
export function sentinelSeesPriorities(view: ReadonlyMap<number, number>, candidatePort: number, excluded: readonly number[]): boolean {
  return (view.get(candidatePort) ?? 0) > 0 && excluded.every((port) => view.get(port) === 0 || !view.has(port));
}

/**
 * Would Sentinel accept this replica as the one to promote (pure)? It refuses (`NOGOODSLAVE`) a replica it sees
 * down or disconnected, or whose link to the master is down; a replica it discovered a moment ago is often so.
 */
export function sentinelCanPromote(view: SentinelReplicaView | undefined): boolean {
  if (view === undefined || view.masterLinkStatus !== "ok") return false;
  return !view.flags.some((flag) => flag === "s_down" || flag === "o_down" || flag === "disconnected");
}

/** The candidates whose processed offset has reached `masterOffset` (pure). */
export function caughtUp(candidates: readonly number[], masterOffset: number, offsets: ReadonlyMap<number, number | undefined>): number[] {
  return candidates.filter((port) => (offsets.get(port) ?? -1) >= masterOffset);
}
