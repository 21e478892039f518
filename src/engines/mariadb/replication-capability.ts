/**
 * MariaDB's side of the engine's replication contract: GTID replication over verified TLS, replicas cloned with
 * mariadb-dump, promotion by GTID, fencing by stopping mariadbd, semi-synchronous commits (ADR 0047).
 */
import type { EngineReplication, FailoverCandidate } from "../types.ts";
import { MARIADB_REPLICATION_ACCOUNT } from "./definition.ts";
import { cloneFromPrimary } from "./clone.ts";
import { configureMariadbDurability } from "./durability.ts";
import { compareGtidPositions, gtidContains, parseGtidPosition, type GtidPosition } from "./gtid.ts";
import { configureRole, lastRanAsPrimary } from "./replication-role.ts";
import { probeMariadbReplication, toReplicationObservation } from "./replication-status.ts";
import { fenceMariadb, finalMariadbPosition, followMariadb, mariadbDiverged, promoteMariadb } from "./server-control.ts";

const EMPTY: GtidPosition = new Map();

/** Replicas that hold the most first: by received GTID position per domain, then by applied, then by name (pure). */
export function rankMariadbCandidates(candidates: readonly FailoverCandidate[]): string[] {
  const position = (text: string | undefined): GtidPosition => parseGtidPosition(text) ?? EMPTY;
  return candidates
    .filter((c) => c.observation.role === "secondary")
    .sort((a, b) =>
      compareGtidPositions(position(a.observation.received), position(b.observation.received)) ||
      compareGtidPositions(position(a.observation.applied), position(b.observation.applied)) ||
      a.instanceName.localeCompare(b.instanceName))
    .map((c) => c.instanceName);
}

/** Has a replica that received `received` every transaction of a former primary whose binlog ends at `final` (pure)? */
export function mariadbHasReceived(final: string, received: string | undefined): boolean {
  const wanted = parseGtidPosition(final);
  const held = parseGtidPosition(received);
  return wanted !== undefined && held !== undefined && gtidContains(held, wanted);
}

/** The replication capability of the MariaDB engine. */
export function createMariadbReplication(): EngineReplication {
  return {
    account: MARIADB_REPLICATION_ACCOUNT,
    // A replica reports its instance name to its primary (report-host), which lists it so.
    replicaName: (instanceName) => instanceName,
    replicaFollows: (state) => state === "connected",
    cloneReplica: cloneFromPrimary,
    configureRole,
    lastRanAsPrimary,
    async probe(port, admin, _nameOfPort, trust) {
      const status = await probeMariadbReplication(port, admin, trust);
      return status === undefined ? undefined : toReplicationObservation(status);
    },
    promote: promoteMariadb,
    async fence(context, host) {
      await fenceMariadb(context, host);
    },
    finalPosition: (context) => finalMariadbPosition(context),
    hasReceived: mariadbHasReceived,
    follow: (context, upstream, credentials) => followMariadb(context, upstream, credentials),
    rankCandidates: rankMariadbCandidates,
    // MariaDB keeps no per-replica state on the primary (no slots): the binlog is kept by its own expiry settings.
    forgetReplica: () => Promise.resolve(),
    diverged: mariadbDiverged,
    configureDurability: (context, durability, _standbys, admin, host) => configureMariadbDurability(context, durability, admin, host),
  };
}
