/**
 * PostgreSQL's side of the engine's replication contract: the building blocks (streaming standbys with
 * slots, pg_rewind, promotion, fencing) behind the engine-neutral interface controllers use.
 */
import { join } from "node:path";
import type { DesiredReplicationRole, EngineReplication, FailoverCandidate, HostAccess, InstanceContext, ReplicationCredentials, ReplicationObservation, RoleConfigured, UpstreamAddress } from "../types.ts";
import { peerServer } from "../address.ts";
import { exists } from "../marker.ts";
import { readControlData } from "./control-data.ts";
import { compareLsn } from "./lsn.ts";
import { rankFailoverCandidates } from "./failover-candidate.ts";
import { isPostgresqlInitialized } from "./initialize.ts";
import { standbyDiverged, walRemovedUpstream } from "./divergence.ts";
import { rejoinAsStandby } from "./rejoin.ts";
import { ensureReplicationAccount } from "./replication-account.ts";
import { REPLICATION_ACCOUNT, planReplication, type ReplicationPlan } from "./replication-config.ts";
import { replicationName } from "./replication-name.ts";
import { STANDBY_SIGNAL, configureReplication } from "./replication-setup.ts";
import { dropReplicationSlot, listReplicationSlots } from "./replication-slots.ts";
import { probeReplication, type ReplicationStatus } from "./replication-status.ts";
import { hotStandbySettingsDrift, removeHotStandbyConf, writeHotStandbyConf } from "./hot-standby.ts";
import { checkpointPostgresql, fencePostgresql, promotePostgresql } from "./server-control.ts";
import { configurePostgresqlDurability } from "./synchronous-config.ts";
import { applyReplicationPlan, cloneStandby } from "./standby.ts";

/** The replication plan of `context` as primary (no upstream) or as standby of `upstream`. */
function planFor(context: InstanceContext, upstream: UpstreamAddress | undefined): ReplicationPlan {
  return planReplication({ instanceName: context.instanceName, runDirectory: context.runDirectory, upstream, parameters: context.parameters, sslRootCert: context.tls?.caFile });
}

/** A probe's ReplicationStatus in the engine-neutral shape. */
export function toObservation(status: ReplicationStatus): ReplicationObservation {
  if (status.role === "primary") {
    const replicas = status.replicas.map((r) => ({ name: r.name, state: r.state, lagBytes: r.lagBytes, lagMs: r.replayLagMs }));
    return { role: "primary", timeline: status.timeline, received: status.currentLsn, applied: status.currentLsn, streamingFrom: undefined, replicas };
  }
  const streamingFrom = status.receiver?.status === "streaming" ? status.receiver.senderPort : undefined;
  return { role: "secondary", timeline: status.timeline, received: status.receiveLsn, applied: status.replayLsn, streamingFrom, replicas: [] };
}

/** Best candidates first: later timeline, more WAL received, more replayed (see rankFailoverCandidates). */
export function rankPostgresqlCandidates(candidates: readonly FailoverCandidate[]): string[] {
  const observations = candidates
    .filter((c) => c.observation.role === "secondary")
    .map((c) => ({ name: c.instanceName, timeline: c.observation.timeline, receiveLsn: c.observation.received, replayLsn: c.observation.applied }));
  return rankFailoverCandidates(observations).map((o) => o.name);
}

async function lastRanAsPrimary(context: InstanceContext): Promise<boolean> {
  return (await isPostgresqlInitialized(context)) && !(await exists(join(context.dataDirectory, STANDBY_SIGNAL)));
}

/** A standby's replication settings; a data directory that last ran as a primary (or is to be rewound) rejoins first. */
async function configureStandby(context: InstanceContext, plan: ReplicationPlan, rewind: boolean, credentials: ReplicationCredentials, host: HostAccess): Promise<RoleConfigured | undefined> {
  if (rewind || (await lastRanAsPrimary(context))) {
    const rejoined = await rejoinAsStandby(context, plan, credentials, host);
    return rejoined.method === "clone" ? { recloned: `pg_rewind failed: ${rejoined.rewindError ?? "unknown error"}` } : undefined;
  }
  await configureReplication(context, plan, credentials.replication, host);
  return undefined;
}

/** The replication capability of the PostgreSQL engine. */
export function createPostgresqlReplication(): EngineReplication {
  return {
    account: REPLICATION_ACCOUNT,
    replicaName: replicationName,
    replicaFollows: (state) => state === "streaming",
    async cloneReplica(context, upstream, credentials, host) {
      // The account is set on the primary before every clone: its password may have been rotated since.
      await ensureReplicationAccount(peerServer(context, upstream), credentials.admin, credentials.replication);
      await cloneStandby(context, planFor(context, upstream), credentials, host);
    },
    async configureRole(context, desired: DesiredReplicationRole, credentials, host) {
      if (desired.role === "primary") {
        await configureReplication(context, planFor(context, undefined), credentials.replication, host);
        await removeHotStandbyConf(context);
        return undefined;
      }
      const configured = await configureStandby(context, planFor(context, desired.upstream), desired.rewind === true, credentials, host);
      // After a rewind or a clone too: pg_control then holds the new primary's values.
      await writeHotStandbyConf(context, planFor(context, desired.upstream).settings, host);
      return configured;
    },
    lastRanAsPrimary,
    async probe(port, admin) {
      const status = await probeReplication(port, admin);
      return status === undefined ? undefined : toObservation(status);
    },
    promote: (context, admin, host) => promotePostgresql(context, admin, host),
    checkpoint: checkpointPostgresql,
    async fence(context, host) {
      await fencePostgresql(context, host);
    },
    async finalPosition(context, host) {
      const control = await readControlData(context, host);
      // Only a clean shutdown says where the WAL ends (its shutdown checkpoint is the last record).
      return control.state === "shut down" ? control.checkpointLocation : undefined;
    },
    // The standby holds the shutdown checkpoint once it has received past that record's start.
    hasReceived: (final, received) => compareLsn(received, final) > 0,
    follow: (context, upstream, credentials, host) => applyReplicationPlan(context, planFor(context, upstream), credentials, host),
    rankCandidates: rankPostgresqlCandidates,
    async forgetReplica(port, admin, instanceName) {
      await dropReplicationSlot(port, admin, replicationName(instanceName));
    },
    keptReplicas: listReplicationSlots,
    diverged: standbyDiverged,
    cannotCatchUp: walRemovedUpstream,
    configureDurability: configurePostgresqlDurability,
    settingsDrift: (context, admin, host) => hotStandbySettingsDrift(context, planFor(context, undefined).settings, admin, host),
  };
}
