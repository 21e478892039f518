/**
 * Redis at its storage quota (ADR 0048): `maxmemory` set to the memory it uses now, with `maxmemory-policy noeviction`,
 * so every command that would grow the dataset (SET, LPUSH, …) is refused with Redis' own "OOM command not allowed"
 * error and no key is ever evicted to make room, while reads and DEL/UNLINK/FLUSHDB (which free space) still work.
 * The data Redis writes to disk (RDB, AOF) is a copy of the dataset, so it stops growing with it. Undone by setting
 * both back to what the instance's parameters say (Redis' defaults when unset); a restart starts from those, and the
 * node agent protects it again.
 */
import type { ClientTrust, Credentials, HostAccess, InstanceContext } from "../types.ts";
import { RespError } from "./resp.ts";
import { commandRedis } from "./session.ts";
import { loopbackTarget } from "./socket.ts";

/** `used_memory` from an INFO memory reply (pure); undefined when absent. */
export function usedMemory(info: unknown): number | undefined {
  if (typeof info !== "string") return undefined;
  const match = /^used_memory:(\d+)\r?$/m.exec(info);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** The CONFIG SET commands that refuse growth at `used` bytes, or put back the configured limits (pure). */
export function storageProtectionCommands(refuse: boolean, used: number | undefined, parameters: Readonly<Record<string, string>>): string[][] {
  if (refuse) return [["CONFIG", "SET", "maxmemory-policy", "noeviction"], ["CONFIG", "SET", "maxmemory", String(Math.max(1, used ?? 1))]];
  return [["CONFIG", "SET", "maxmemory", parameters["maxmemory"] ?? "0"], ["CONFIG", "SET", "maxmemory-policy", parameters["maxmemory-policy"] ?? "noeviction"]];
}

/** Turn the write protection on or off on the running server. */
export async function protectRedisStorage(context: InstanceContext, refuse: boolean, admin: Credentials, _host: HostAccess, trust?: ClientTrust): Promise<void> {
  const target = loopbackTarget(context.port, context.tls === undefined ? undefined : trust?.caFile);
  const [info] = refuse ? await commandRedis(target, admin, [["INFO", "memory"]]) : [undefined];
  const used = info instanceof RespError ? undefined : usedMemory(info);
  await commandRedis(target, admin, storageProtectionCommands(refuse, used, context.parameters));
}
