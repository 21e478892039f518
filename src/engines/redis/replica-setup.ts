/** Writing the redis.conf of an instance of a replicated component, before each start. */
import type { HostAccess, InstanceContext } from "../types.ts";
import { redisConfPath } from "./config.ts";
import { renderReplicatedRedisConf, type RedisReplicaSettings } from "./replica-config.ts";
import type { RedisReplicationAccounts } from "./replication-accounts.ts";

/**
 * Write redis.conf (0600) for `context` as a master or as a replica of `settings.masterPort`. Use it instead of
 * the engine's `configure` for replicated components; Sentinel may later rewrite the file (`CONFIG REWRITE`)
 * when it reconfigures the instance, which is why the run directory must stay writable by the service user.
 */
export async function configureRedisReplica(context: InstanceContext, accounts: RedisReplicationAccounts, settings: RedisReplicaSettings, host: HostAccess): Promise<void> {
  await host.mkdir(context.runDirectory);
  await host.writeFile(redisConfPath(context), renderReplicatedRedisConf(context, accounts, settings), 0o600);
}
