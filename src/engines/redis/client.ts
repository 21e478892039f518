/** redis-cli and connection URIs for a Redis instance. */
import { findExecutableSync } from "../host-binaries.ts";
import type { ClientTrust, Credentials, Engine } from "../types.ts";

/**
 * redis-cli against `host`:`port` as `account`; with `trust`, over TLS checked against its CA (`--tls --cacert`),
 * which every instance Holdfast runs requires. redis-cli has no password-file option and `-a` would put the password in
 * argv (visible in `ps`), so it goes in REDISCLI_AUTH, which redis-cli reads itself; the environment of a process is
 * readable only by its owner and root.
 */
export function redisClientCommand(host: string, port: number, account: Credentials, trust?: ClientTrust): ReturnType<Engine["clientCommand"]> {
  return {
    command: findExecutableSync("redis-cli") ?? "redis-cli",
    args: ["-h", host, "-p", String(port), "--user", account.username, ...(trust === undefined ? [] : ["--tls", "--cacert", trust.caFile])],
    env: { REDISCLI_AUTH: account.password },
  };
}

/**
 * `redis://user:password@host:port`, user and password URI-encoded; with `trust`, `rediss://` (TLS). The CA is not in
 * the URI: Redis clients name it each their own way (redis-cli `--cacert`, redis-py `ssl_ca_certs`), see docs/usage.md.
 */
export function redisConnectionUri(host: string, port: number, account: Credentials, trust?: ClientTrust): string {
  const hostPart = host.includes(":") ? `[${host}]` : host;
  const scheme = trust === undefined ? "redis" : "rediss";
  return `${scheme}://${encodeURIComponent(account.username)}:${encodeURIComponent(account.password)}@${hostPart}:${port}`;
}
