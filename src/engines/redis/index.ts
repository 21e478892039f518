/** The Redis engine: redis.conf with hashed ACL passwords, loopback only, probes over RESP2. */
import { join } from "node:path";
import { matchVersion } from "../version.ts";
import type { Engine } from "../types.ts";
import { redisClientCommand, redisConnectionUri } from "./client.ts";
import { redisConfPath, redisPidPath } from "./config.ts";
import { REDIS_ACCOUNTS, REDIS_DEFINITION, REDIS_PACKAGES, REDIS_STOP } from "./definition.ts";
import { configureRedis, initializeRedis, isRedisInitialized } from "./initialize.ts";
import { redisParametersFor } from "./parameters.ts";
import { probeRedisReady, probeRedisRole } from "./probe.ts";
import { detectRedisVersions } from "./versions.ts";

export { parseRedisVersion } from "./versions.ts";
export { RespError, RespParser, encodeCommand, respExchange, type RespValue } from "./resp.ts";

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
    parametersFor: redisParametersFor,
    isInitialized: isRedisInitialized,
    initialize: initializeRedis,
    configure: configureRedis,
    startCommand: (context) => ({ command: join(context.version.binDir, "redis-server"), args: [redisConfPath(context)] }),
    pidFile: redisPidPath,
    probeReady: probeRedisReady,
    probeRole: probeRedisRole,
    clientCommand: redisClientCommand,
    connectionUri: redisConnectionUri,
  };
}
