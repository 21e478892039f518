/** Creating and configuring a Redis instance's directories and redis.conf. */
import type { Credentials, HostAccess, InstanceContext, InstanceLayout } from "../types.ts";
import { exists, markerContent, markerPath } from "../marker.ts";
import { redisConfPath, renderRedisConf } from "./config.ts";

/** Did a previous `initialize` finish? */
export function isRedisInitialized(layout: InstanceLayout): Promise<boolean> {
  return exists(markerPath(layout.dataDirectory));
}

/** Write redis.conf (0600) into the run directory. */
export async function configureRedis(context: InstanceContext, accounts: readonly Credentials[], host: HostAccess): Promise<void> {
  await host.mkdir(context.runDirectory);
  await host.writeFile(redisConfPath(context), renderRedisConf(context, accounts), 0o600);
}

/** Create the directories and configuration, then the marker: Redis creates its own files on first start. */
export async function initializeRedis(context: InstanceContext, accounts: readonly Credentials[], host: HostAccess): Promise<void> {
  await host.mkdir(context.dataDirectory);
  await configureRedis(context, accounts, host);
  await host.writeFile(markerPath(context.dataDirectory), markerContent(), 0o600);
}
