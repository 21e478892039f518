/** The PostgreSQL engine: initdb, holdfast.conf, SCRAM over loopback TCP, probes through `pg`. */
import { ConnectionLog, POSTGRESQL_SUPERUSERS } from "./connection-log.ts";
import { protectPostgresqlStorage } from "./storage-protection.ts";
import { applyPostgresqlParameters } from "./live-parameters.ts";
import { POSTGRESQL_PARAMETERS } from "./parameter-schema.ts";
import { join } from "node:path";
import { matchVersion } from "../version.ts";
import type { Engine } from "../types.ts";
import { PG_ARCHIVE_WAL } from "./archive-wal.ts";
import { PG_BASEBACKUP } from "./basebackup.ts";
import { PG_DUMP } from "./pgdump.ts";
import { postgresqlClientCommand, postgresqlConnectionUri } from "./client.ts";
import { POSTGRESQL_EXPORTER } from "./exporter.ts";
import { POSTGRESQL_PASSWORDS } from "./passwords.ts";
import { POSTGRESQL_USERS } from "./users.ts";
import { POSTGRESQL_DATABASES } from "./databases.ts";
import { POSTGRESQL_ACTIONS } from "./actions.ts";
import { POSTGRESQL_ACCOUNTS, POSTGRESQL_DEFINITION, POSTGRESQL_PACKAGES, POSTGRESQL_STOP } from "./definition.ts";
import { allowPostgresqlPeers, configurePostgresql, initializePostgresql, isPostgresqlInitialized } from "./initialize.ts";
import { postgresqlParametersFor } from "./parameters.ts";
import { probePostgresqlReady, probePostgresqlRole } from "./probe.ts";
import { reloadPostgresql } from "./server-control.ts";
import { finishRestoredStart } from "./restored-passwords.ts";
import { createPostgresqlReplication } from "./replication-capability.ts";
import { detectPostgresqlVersions } from "./versions.ts";
import { POSTGRESQL_TLS_START } from "./tls-start.ts";

export { parsePostgresVersion } from "./versions.ts";

/** A new PostgreSQL engine module. */
export function createPostgresqlEngine(): Engine {
  return {
    name: "postgresql",
    definition: POSTGRESQL_DEFINITION,
    systemAccounts: POSTGRESQL_ACCOUNTS,
    stop: POSTGRESQL_STOP,
    packages: POSTGRESQL_PACKAGES,
    detectVersions: detectPostgresqlVersions,
    matchVersion,
    parameterSchema: POSTGRESQL_PARAMETERS,
    applyParameters: applyPostgresqlParameters,
    protectStorage: (context, refuse, admin, host) => protectPostgresqlStorage(context, refuse, admin, host),
    parametersFor: postgresqlParametersFor,
    isInitialized: isPostgresqlInitialized,
    initialize: initializePostgresql,
    configure: (context, _accounts, host) => configurePostgresql(context, host),
    allowPeers: allowPostgresqlPeers,
    // A reload re-reads ssl_cert_file and ssl_key_file; new connections get the new certificate, open ones keep theirs.
    reloadTls: (context, admin) => reloadPostgresql(context.port, admin),
    clientTlsStart: POSTGRESQL_TLS_START,
    startCommand: (context) => ({ command: join(context.version.binDir, "postgres"), args: ["-D", context.dataDirectory] }),
    finishStart: finishRestoredStart,
    pidFile: (layout) => join(layout.dataDirectory, "postmaster.pid"),
    probeReady: probePostgresqlReady,
    probeRole: probePostgresqlRole,
    clientCommand: postgresqlClientCommand,
    connectionUri: postgresqlConnectionUri,
    backupMethods: [PG_BASEBACKUP, PG_ARCHIVE_WAL, PG_DUMP],
    replication: createPostgresqlReplication(),
    exporter: POSTGRESQL_EXPORTER,
    passwords: POSTGRESQL_PASSWORDS,
    logins: { superusers: POSTGRESQL_SUPERUSERS, logParser: () => new ConnectionLog() },
    users: POSTGRESQL_USERS,
    actions: POSTGRESQL_ACTIONS,
    databases: POSTGRESQL_DATABASES,
  };
}

// Replication building blocks: planned without I/O, applied by the thin functions below.
export { REPLICATION_ACCOUNT, REPLICATION_CONF, planReplication, renderReplicationConf, type ReplicationPlan, type ReplicationPlanInput, type UpstreamConnection, type UpstreamServer } from "./replication-config.ts";
export { replicationName } from "./replication-name.ts";
export { planSynchronousReplication, quorumFailoverIsSafe, type DurabilityMode, type SynchronousSettings } from "./synchronous.ts";
export { chooseFailoverCandidate, rankFailoverCandidates, walHeld, type CandidateObservation, type CandidateOptions } from "./failover-candidate.ts";
export { compareLsn, formatLsn, parseLsn, walBytesBetween } from "./lsn.ts";
export { ensureReplicationAccount } from "./replication-account.ts";
export { dropReplicationSlot, ensureReplicationSlot, listReplicationSlots } from "./replication-slots.ts";
export { SYNCHRONOUS_CONF, configurePostgresqlDurability } from "./synchronous-config.ts";
export { probeReplication, type PrimaryReplicationStatus, type ReplicaStatus, type ReplicationStatus, type SlotStatus, type StandbyReplicationStatus, type WalReceiverStatus } from "./replication-status.ts";
export { STANDBY_SIGNAL, configureReplication } from "./replication-setup.ts";
export { applyReplicationPlan, cloneStandby, type ReplicationAccounts } from "./standby.ts";
export { rejoinAsStandby, type RejoinResult } from "./rejoin.ts";
export { checkpointPostgresql, fencePostgresql, isPostgresqlRunning, promoteOverSql, promotePostgresql, reloadPostgresql, stopPostgresql, type StopMode } from "./server-control.ts";
