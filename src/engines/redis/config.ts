/**
 * redis.conf as Holdfast writes it: loopback and the node's address, TLS only when the instance has TLS files (plain
 * port 0), AOF on, and the `default` user's password present only as its SHA-256 (Redis ACL `#<hash>`), so no file
 * holds it in plaintext.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { InvalidError } from "../../errors/index.ts";
import { hasControlCharacters } from "../config-text.ts";
import { listenAddresses } from "../address.ts";
import type { Credentials, InstanceContext, InstanceLayout } from "../types.ts";

/** The config file, in the run directory. */
export function redisConfPath(layout: InstanceLayout): string {
  return join(layout.runDirectory, "redis.conf");
}

/** Redis' own pid file, in the run directory. */
export function redisPidPath(layout: InstanceLayout): string {
  return join(layout.runDirectory, "redis.pid");
}

/** Redis creates its files (RDB, AOF, rewritten config) with mode 0644 & ~umask: run it with this umask to keep them private. */
export const PRIVATE_UMASK = 0o077;

/** Directives that decide reachability, files, authentication or code loading: Holdfast's alone (and every `tls-` one). */
const OWNED = new Set([
  "bind", "port", "protected-mode", "daemonize", "supervised", "logfile", "dir", "pidfile", "user", "aclfile",
  "requirepass", "masteruser", "masterauth", "include", "loadmodule", "unixsocket", "unixsocketperm", "tls-port",
  "enable-debug-command", "enable-module-command", "enable-protected-configs", "rename-command", "appendonly",
  // Replication is set up by Holdfast and driven by Sentinel.
  "replicaof", "slaveof", "replica-priority", "slave-priority", "replica-read-only", "slave-read-only",
  "replica-announce-ip", "replica-announce-port", "slave-announce-ip", "slave-announce-port",
]);

const NAME = /^[a-z][a-z0-9-]*$/;

/** A string in double quotes, as redis.conf reads it. */
export function quote(value: string): string {
  return `"${value.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}

/** Reject parameters Redis cannot read or Holdfast must not give away. */
export function validateRedisParameters(parameters: Record<string, string>): void {
  const causes = Object.entries(parameters).flatMap(([name, value]) => {
    if (!NAME.test(name)) return [{ field: `parameters.${name}`, message: "is not a Redis configuration directive" }];
    if (OWNED.has(name) || name.startsWith("tls-")) return [{ field: `parameters.${name}`, message: "is managed by Holdfast and cannot be set" }];
    if (hasControlCharacters(value)) return [{ field: `parameters.${name}`, message: "must not contain control characters" }];
    return [];
  });
  if (causes.length > 0) {
    throw new InvalidError(`invalid Redis parameters: ${causes.map((c) => `${c.field} ${c.message}`).join("; ")}`, { causes });
  }
}

/**
 * Where the server (or Sentinel) listens: loopback and the node's address. With TLS files, on its port in TLS only:
 * Redis binds its plain and TLS ports to the same addresses, so a plain port would be open on the node's address
 * too (ADR 0030). Clients need no certificate (they log in with a password, inside TLS); replication and Sentinel's
 * connections use TLS, and check the server's certificate against the cluster CA (`tls-replication`).
 */
export function listenLines(context: Pick<InstanceContext, "address" | "port" | "tls">): string[] {
  const bind = `bind ${listenAddresses(context).join(" ")}`;
  if (context.tls === undefined) return [bind, `port ${context.port}`];
  return [
    bind,
    "port 0",
    `tls-port ${context.port}`,
    `tls-cert-file ${quote(context.tls.certificateFile)}`,
    `tls-key-file ${quote(context.tls.keyFile)}`,
    `tls-ca-cert-file ${quote(context.tls.caFile)}`,
    "tls-auth-clients no",
    "tls-replication yes",
    'tls-protocols "TLSv1.2 TLSv1.3"',
  ];
}

/** ACL rules of an administrator: all keys, channels and commands. */
export const ALL_PERMISSIONS = "~* &* +@all";

/** A password as Redis ACL takes it without the plaintext: `#` and its SHA-256. */
export function aclPasswordHash(password: string): string {
  return `#${createHash("sha256").update(password, "utf8").digest("hex")}`;
}

/**
 * The ACL rule for one account: enabled, `permissions` (all by default), its password (and the others it accepts
 * during a rotation, ADR 0038) as their SHA-256.
 */
export function aclUserLine(account: Credentials, permissions: string = ALL_PERMISSIONS): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(account.username)) {
    throw new InvalidError(`Redis user name ${account.username} is not allowed: use letters, digits, '_', '.', '-'`, {
      causes: [{ field: "accounts.username", message: "must be letters, digits, '_', '.' or '-'" }],
    });
  }
  const hashes = [account.password, ...(account.otherPasswords ?? [])].map(aclPasswordHash);
  return `user ${account.username} reset on ${hashes.join(" ")} ${permissions}`;
}

/** The content of redis.conf for `context`, with one ACL user per account, then `extraLines` (replication). */
export function renderRedisConf(context: InstanceContext, accounts: readonly Credentials[], extraLines: readonly string[] = []): string {
  validateRedisParameters(context.parameters);
  if (accounts.length === 0) {
    throw new InvalidError("Redis needs credentials for its system accounts: pass them to configure", {
      causes: [{ field: "accounts", message: "at least the default user is required" }],
    });
  }
  const parameters = Object.entries(context.parameters).sort(([a], [b]) => a.localeCompare(b)).map(([name, value]) => `${name} ${value}`);
  return [
    "# Managed by Holdfast: rewritten before every start; edits here are lost.",
    ...listenLines(context),
    "protected-mode yes",
    "daemonize no",
    'logfile ""',
    `dir ${quote(context.dataDirectory)}`,
    `pidfile ${quote(redisPidPath(context))}`,
    "appendonly yes",
    "save 3600 1 300 100 60 10000",
    // Redis 7 hardening: no DEBUG, no MODULE LOAD, no CONFIG SET of paths such as dir or dbfilename.
    "enable-debug-command no",
    "enable-module-command no",
    "enable-protected-configs no",
    ...accounts.map((account) => aclUserLine(account)),
    ...extraLines,
    ...parameters,
    "",
  ].join("\n");
}
