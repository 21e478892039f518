/** The Redis engine: redis.conf with hashed ACL passwords, loopback only, probes over RESP2. */
import { protectRedisStorage } from "./storage-protection.ts";
import { applyRedisParameters } from "./live-parameters.ts";
import { REDIS_SUPERUSERS, redisConnectedClients } from "./client-list.ts";
import { REDIS_PARAMETERS } from "./parameter-schema.ts";
import { join } from "node:path";
import { matchVersion } from "../version.ts";
import type { Engine } from "../types.ts";
import { redisClientCommand, redisConnectionUri } from "./client.ts";
import { PRIVATE_UMASK, redisConfPath, redisPidPath } from "./config.ts";
import { REDIS_DATAFILE } from "./datafile.ts";
import { REDIS_EXPORTER } from "./exporter.ts";
import { REDIS_ACCOUNTS, REDIS_DEFINITION, REDIS_PACKAGES, REDIS_STOP } from "./definition.ts";
import { configureRedis, initializeRedis, isRedisInitialized } from "./initialize.ts";
import { redisParametersFor } from "./parameters.ts";
import { REDIS_PASSWORDS } from "./passwords.ts";
import { REDIS_USERS } from "./users.ts";
import { REDIS_ACTIONS } from "./actions.ts";
import { probeRedisReady, probeRedisRole } from "./probe.ts";
import { createRedisReplication } from "./replication-capability.ts";
import { detectRedisVersions } from "./versions.ts";
import { reloadRedisTls } from "./tls-reload.ts";

import { REDIS_TLS_START } from "./tls-start.ts";
export { parseRedisVersion } from "./versions.ts";
export { RespError, RespParser, describeTarget, encodeCommand, respExchange, targetAddress, type RedisTarget, type RespValue } from "./resp.ts";
export { redisConfPath, redisPidPath } from "./config.ts";
export {
  REDIS_REPLICATION_ACCOUNT, REDIS_SENTINEL_ACCOUNT, REPLICATION_PERMISSIONS, SENTINEL_PERMISSIONS, SENTINEL_PEER_PERMISSIONS, type RedisReplicationAccounts,
} from "./replication-accounts.ts";
export { DEFAULT_REPLICA_PRIORITY, renderReplicatedRedisConf, replicationConfLines, type RedisReplicaSettings } from "./replica-config.ts";
export { configureRedisReplica } from "./replica-setup.ts";
export {
  DEFAULT_SENTINEL_TIMINGS, parseSentinelState, renderSentinelConf, sentinelConfPath, sentinelPidPath, sentinelQuorum,
  type SentinelSettings, type SentinelState, type SentinelTimings,
} from "./sentinel-config.ts";
export { configureSentinel, sentinelStartCommand } from "./sentinel-setup.ts";
export { createSentinelArbiter, sentinelMasterName, sentinelSettingsFor } from "./sentinel-arbiter.ts";
export { createRedisReplication, rankRedisCandidates } from "./replication-capability.ts";
export { askRedis, commandRedis } from "./session.ts";
export { reloadRedisTls, tlsReloadCommand } from "./tls-reload.ts";
export {
  parseReplicationInfo, probeRedisReplication, toReplicationObservation, type RedisMasterInfo, type RedisReplicaInfo, type RedisReplicaLink, type RedisReplicationInfo,
} from "./replication-info.ts";
export { observeSentinel, parseSentinelObservation } from "./sentinel-observe.ts";
export {
  agreedMaster, askSentinels, sentinelCkquorum, sentinelFailover, sentinelMasterFields, sentinelMasterPort, sentinelReplicas, sentinelReset, waitForAgreedMaster,
  type SentinelAnswers, type SentinelReplicaView,
} from "./sentinel-probe.ts";
export { decideRedisStartRole, planRedisStartRole, type RedisStartRole } from "./start-role.ts";
export { chooseSwitchoverCandidate, type ObservedInstance } from "./switchover-plan.ts";
export {
  DEFAULT_SWITCHOVER_TIMEOUT_MS, agreedMasterPort, switchoverRedis, type RedisSentinelGroup, type RedisSwitchoverRequest, type RedisSwitchoverResult,
} from "./switchover.ts";

/** A new Redis engine module. */
export function createRedisEngine(): Engine {
  return {
    name: "redis",
    definition: REDIS_DEFINITION,
    systemAccounts: REDIS_ACCOUNTS,
    stop: REDIS_STOP,
    packages: REDIS_PACKAGES,
    detectVersions: detectRedisVersions,
    matchVersion,
    parameterSchema: REDIS_PARAMETERS,
    applyParameters: applyRedisParameters,
    protectStorage: protectRedisStorage,
    parametersFor: redisParametersFor,
    isInitialized: isRedisInitialized,
    initialize: initializeRedis,
    configure: configureRedis,
    startCommand: (context) => ({ command: join(context.version.binDir, "redis-server"), args: [redisConfPath(context)], umask: PRIVATE_UMASK }),
    pidFile: redisPidPath,
    reloadTls: reloadRedisTls,
    clientTlsStart: REDIS_TLS_START,
    probeReady: probeRedisReady,
    probeRole: probeRedisRole,
    clientCommand: redisClientCommand,
    connectionUri: redisConnectionUri,
    backupMethods: [REDIS_DATAFILE],
    replication: createRedisReplication(),
    exporter: REDIS_EXPORTER,
    passwords: REDIS_PASSWORDS,
    logins: { superusers: REDIS_SUPERUSERS, connectedClients: redisConnectedClients },
    users: REDIS_USERS,
    actions: REDIS_ACTIONS,
  };
}
