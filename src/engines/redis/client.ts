/** redis-cli and connection URIs for a Redis instance. */
import { findExecutableSync } from "../host-binaries.ts";
import type { Credentials, Engine } from "../types.ts";

/**
 * redis-cli against `host`:`port` as `account`. redis-cli has no password-file option and `-a`
 * would put the password in argv (visible in `ps`), so it goes in REDISCLI_AUTH, which redis-cli reads
 * itself; the environment of a process is readable only by its owner and root.
 */
export function redisClientCommand(host: string, port: number, account: Credentials): ReturnType<Engine["clientCommand"]> {
  return {
    command: findExecutableSync("redis-cli") ?? "redis-cli",
    args: ["-h", host, "-p", String(port), "--user", account.username],
    env: { REDISCLI_AUTH: account.password },
  };
}

/** `redis://user:password@host:port`, user and password URI-encoded. */
export function redisConnectionUri(host: string, port: number, account: Credentials): string {
  const hostPart = host.includes(":") ? `[${host}]` : host;
  return `redis://${encodeURIComponent(account.username)}:${encodeURIComponent(account.password)}@${hostPart}:${port}`;
}
