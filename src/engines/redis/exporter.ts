/**
 * Redis's exporter: Debian's prometheus-redis-exporter (1.45), logging in as an ACL user allowed INFO, PING, SLOWLOG
 * and LATENCY reads and nothing else (no key, no channel, no CONFIG: CONFIG GET would show masterauth). Its password
 * reaches it through --redis.password-file (a JSON map of address to password): never argv or environment (ADR 0035).
 * ACL users set at run time are not in redis.conf, so the node agent sets the user again after each start.
 */
import { LOOPBACK } from "../address.ts";
import type { ClientTrust, Credentials, EngineExporter, ExporterOptions, InstanceContext } from "../types.ts";
import { aclPasswordHash } from "./config.ts";
import { loopbackTarget } from "./resp.ts";
import { commandRedis } from "./session.ts";

/** The monitoring user. */
export const REDIS_MONITOR_ACCOUNT = { name: "kbmonitoring", purpose: "metrics exporter: INFO, PING, SLOWLOG and LATENCY only (no keys, no CONFIG)" };

/** What the exporter runs: INFO ALL for nearly everything, SLOWLOG and LATENCY for their own metrics. */
export const MONITOR_PERMISSIONS = ["resetkeys", "resetchannels", "-@all", "+info", "+ping", "+slowlog|len", "+slowlog|get", "+latency|latest", "+latency|histogram"];

/** The ACL SETUSER command for the monitoring user, its password as a SHA-256 (pure). */
export function monitorAclCommand(account: Credentials): string[] {
  return ["ACL", "SETUSER", account.username, "reset", "on", aclPasswordHash(account.password), ...MONITOR_PERMISSIONS];
}

async function ensureMonitorUser(context: InstanceContext, admin: Credentials, account: Credentials, trust: ClientTrust): Promise<void> {
  await commandRedis(loopbackTarget(context.port, context.tls === undefined ? undefined : trust.caFile), admin, [monitorAclCommand(account)]);
}

/** The exporter's command: over TLS checked against the instance's CA when the instance speaks TLS (pure). */
export function redisExporterCommand(context: InstanceContext, options: ExporterOptions): ReturnType<EngineExporter["command"]> {
  const address = `${context.tls === undefined ? "redis" : "rediss"}://${LOOPBACK}:${context.port}`;
  const tls = context.tls === undefined ? [] : [`-tls-ca-cert-file=${context.tls.caFile}`];
  return {
    command: {
      command: "/usr/bin/prometheus-redis-exporter",
      args: [`-web.listen-address=${options.listen}`, `-redis.addr=${address}`, `-redis.user=${options.account.username}`, `-redis.password-file=${options.passwordFile}`, ...tls],
    },
    passwordFileContent: `${JSON.stringify({ [address]: options.account.password })}\n`,
  };
}

/** The Redis engine's exporter. */
export const REDIS_EXPORTER: EngineExporter = {
  account: REDIS_MONITOR_ACCOUNT,
  package: "prometheus-redis-exporter",
  ensureAccount: ensureMonitorUser,
  command: redisExporterCommand,
};
