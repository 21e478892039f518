/**
 * my.cnf as Holdfast writes it: loopback and the node's address, TCP with TLS required when the instance has TLS
 * files, a socket only in the private run directory, ed25519 passwords, no host-name lookups, no LOAD DATA LOCAL,
 * no symbolic links, file export confined to the run directory, GTID-ready binary log, logins in the audit log.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { InvalidError } from "../../errors/index.ts";
import { listenAddresses } from "../address.ts";
import { hasControlCharacters } from "../config-text.ts";
import type { InstanceContext, InstanceLayout } from "../types.ts";
import { auditLogLines } from "./audit-log.ts";

/** The option file, in the run directory. */
export function mariadbConfPath(layout: InstanceLayout): string {
  return join(layout.runDirectory, "my.cnf");
}

/** mariadbd's own pid file, in the run directory. */
export function mariadbPidPath(layout: InstanceLayout): string {
  return join(layout.runDirectory, "mariadbd.pid");
}

/** The unix socket: in the run directory (0700), so only the instance's OS user can reach it. */
export function mariadbSocketPath(layout: InstanceLayout): string {
  return join(layout.runDirectory, "mariadbd.sock");
}

/** The one directory SELECT … INTO OUTFILE and LOAD DATA INFILE may use (secure_file_priv). */
export function mariadbFilesDirectory(layout: InstanceLayout): string {
  return join(layout.runDirectory, "files");
}

/** mariadbd creates its files with mode 0660 & ~umask: run it with this umask to keep them private. */
export const PRIVATE_UMASK = 0o077;

/**
 * mariadbd replaces its process umask with one derived from `UMASK`/`UMASK_DIR` (0660/0700 by default), so files it
 * creates later (master.info, relay logs, new tables) would be group-readable: these make them its OS user's alone.
 */
export const PRIVATE_FILE_MODES: Readonly<Record<string, string>> = { UMASK: "0600", UMASK_DIR: "0700" };

/** Options that decide reachability, files, authentication, replication or plugins: Holdfast's alone (and every `ssl` one). */
const OWNED = new Set([
  "datadir", "basedir", "port", "bind-address", "socket", "pid-file", "user", "skip-networking", "skip-grant-tables",
  "skip-name-resolve", "local-infile", "symbolic-links", "secure-file-priv", "plugin-load", "plugin-load-add", "plugin-dir",
  "init-file", "init-connect", "log-error", "log-bin", "server-id", "gtid-strict-mode", "read-only", "require-secure-transport",
  "tmpdir", "general-log-file", "slow-query-log-file", "log-basename", "relay-log", "enforce-storage-engine",
  "report-host", "report-port", "master-info-file", "relay-log-info-file", "general-log", "gtid-domain-id",
]);

/** Option families Holdfast sets itself: TLS, `skip-…` switches, semi-synchronous replication (holdfast.io/ha-synchronous), the connection log. */
const MANAGED_PREFIXES = ["ssl", "tls", "skip-", "rpl-semi-sync", "server-audit"];

const NAME = /^[a-z][a-z0-9_-]*$/;

/** The option's name as MariaDB reads it: `_` and `-` are the same. */
function canonical(name: string): string {
  return name.replaceAll("_", "-");
}

/** Reject parameters MariaDB cannot read or Holdfast must not give away. */
export function validateMariadbParameters(parameters: Record<string, string>): void {
  const causes = Object.entries(parameters).flatMap(([name, value]) => {
    const option = canonical(name);
    if (!NAME.test(name)) return [{ field: `parameters.${name}`, message: "is not a MariaDB server option" }];
    if (OWNED.has(option) || MANAGED_PREFIXES.some((prefix) => option.startsWith(prefix))) {
      return [{ field: `parameters.${name}`, message: "is managed by Holdfast and cannot be set" }];
    }
    if (hasControlCharacters(value)) return [{ field: `parameters.${name}`, message: "must not contain control characters" }];
    return [];
  });
  if (causes.length > 0) {
    throw new InvalidError(`invalid MariaDB parameters: ${causes.map((c) => `${c.field} ${c.message}`).join("; ")}`, { causes });
  }
}

/** A stable server_id (1..2^32-1) for an instance: replication needs them distinct, and the name is unique. */
export function serverIdFor(instanceName: string): number {
  return (createHash("sha256").update(instanceName, "utf8").digest().readUInt32BE(0) % 4_294_967_294) + 1;
}

/** TLS for clients and peers: required on every TCP connection when the instance has TLS files. */
function tlsLines(context: Pick<InstanceContext, "tls">): string[] {
  if (context.tls === undefined) return [];
  return [
    `ssl-cert = ${context.tls.certificateFile}`,
    `ssl-key = ${context.tls.keyFile}`,
    `ssl-ca = ${context.tls.caFile}`,
    "tls-version = TLSv1.2,TLSv1.3",
    "require-secure-transport = ON",
  ];
}

/**
 * The content of my.cnf for `context` (read with --defaults-file, so no other option file counts); `replication`:
 * the lines of its role in replication (replication-role.ts), after the user's parameters so they win.
 */
export function renderMariadbConf(context: InstanceContext, replication: readonly string[] = []): string {
  validateMariadbParameters(context.parameters);
  const parameters = Object.entries(context.parameters).sort(([a], [b]) => a.localeCompare(b)).map(([name, value]) => `${name} = ${value}`);
  return [
    "# Managed by Holdfast: rewritten before every start; edits here are lost.",
    "[mariadbd]",
    `datadir = ${context.dataDirectory}`,
    `port = ${context.port}`,
    `bind-address = ${listenAddresses(context).join(",")}`,
    `socket = ${mariadbSocketPath(context)}`,
    `pid-file = ${mariadbPidPath(context)}`,
    `tmpdir = ${context.runDirectory}`,
    `secure-file-priv = ${mariadbFilesDirectory(context)}`,
    "skip-name-resolve",
    "local-infile = 0",
    "symbolic-links = 0",
    "plugin-load-add = auth_ed25519",
    ...auditLogLines(context),
    "character-set-server = utf8mb4",
    "collation-server = utf8mb4_unicode_ci",
    `server-id = ${serverIdFor(context.instanceName)}`,
    "log-bin = mariadb-bin",
    "binlog-format = ROW",
    "gtid-strict-mode = ON",
    "log-slave-updates = ON",
    ...tlsLines(context),
    ...parameters,
    ...replication,
    "",
  ].join("\n");
}
