/** Dynamic parameters of a running Redis server: CONFIG SET each (redis.conf is rewritten from the spec before every start). */
import type { ClientTrust, Credentials, HostAccess, LiveParameterChange } from "../types.ts";
import { commandRedis } from "./session.ts";
import { loopbackTarget } from "./socket.ts";

/** CONFIG SET the live parameters; a removed one has no value to set back to but its default at a start: false (restart). */
export async function applyRedisParameters(change: LiveParameterChange, admin: Credentials, _host: HostAccess, trust?: ClientTrust): Promise<boolean> {
  if (change.removed.length > 0) return false;
  const commands = Object.entries(change.set).map(([name, value]) => ["CONFIG", "SET", name, value]);
  if (commands.length === 0) return true;
  await commandRedis(loopbackTarget(change.context.port, change.context.tls === undefined ? undefined : trust?.caFile), admin, commands);
  return true;
}
