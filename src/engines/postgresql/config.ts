/**
 * The configuration Holdfast owns in a PostgreSQL data directory.
 *
 * Holdfast writes its settings to `holdfast.conf`, included from the end of `postgresql.conf`.
 * Rewriting a whole file of our own each start is idempotent and leaves initdb's
 * `postgresql.conf` (locale, timezone) and ALTER SYSTEM's `postgresql.auto.conf` untouched,
 * where writing `postgresql.auto.conf` would silently discard users' ALTER SYSTEM settings.
 */
import { InvalidError } from "../../errors/index.ts";
import { hasControlCharacters } from "../config-text.ts";
import { isIP } from "node:net";
import { LOOPBACK, listenAddresses } from "../address.ts";
import type { InstanceContext } from "../types.ts";
import { archiveSettings } from "./wal-archive.ts";

/** File Holdfast rewrites before every start. */
export const HOLDFAST_CONF = "holdfast.conf";

/** The file the node agent writes while the instance's storage quota is reached (ADR 0048), removed when it is not. */
export const STORAGE_PROTECTION_CONF = "holdfast-storage.conf";

/** The line `postgresql.conf` needs so PostgreSQL reads `holdfast.conf` after its own settings. */
export const INCLUDE_LINE = `include_if_exists = '${HOLDFAST_CONF}'`;

/** Settings that decide where and how the server is reached: Holdfast's alone. */
const OWNED = new Set([
  "listen_addresses", "port", "unix_socket_directories", "password_encryption", "data_directory",
  "config_file", "hba_file", "ident_file", "external_pid_file", "include", "include_if_exists", "include_dir",
  "logging_collector", "log_destination", "log_line_prefix", "log_connections",
  "ssl", "ssl_cert_file", "ssl_key_file", "ssl_ca_file", "ssl_min_protocol_version",
]);

const NAME = /^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/;

/** A value in single quotes, as postgresql.conf reads it. */
export function quote(value: string): string {
  return `'${value.replaceAll("\\", "\\\\").replaceAll("'", "''")}'`;
}

/** Reject parameters PostgreSQL cannot read or Holdfast must not give away. */
export function validatePostgresqlParameters(parameters: Record<string, string>): void {
  const causes = Object.entries(parameters).flatMap(([name, value]) => {
    if (!NAME.test(name)) return [{ field: `parameters.${name}`, message: "is not a PostgreSQL parameter name" }];
    if (OWNED.has(name)) return [{ field: `parameters.${name}`, message: "is managed by Holdfast and cannot be set" }];
    if (hasControlCharacters(value)) return [{ field: `parameters.${name}`, message: "must not contain control characters" }];
    return [];
  });
  if (causes.length > 0) {
    throw new InvalidError(`invalid PostgreSQL parameters: ${causes.map((c) => `${c.field} ${c.message}`).join("; ")}`, { causes });
  }
}

/**
 * The local socket of a start that must finish a restore's setup before anyone logs in over TCP (restored-passwords.ts):
 * the socket in the instance's private run directory, and the ident map its peer-authenticated line uses.
 */
export interface SetupSocket {
  directory: string;
  identFile: string;
}

/**
 * The content of `holdfast.conf`: network, authentication, logging, replication readiness, then parameters. With
 * `setup`, the server also listens on a socket in its private run directory (see SetupSocket).
 */
export function renderHoldfastConf(context: InstanceContext, setup?: SetupSocket): string {
  validatePostgresqlParameters(context.parameters);
  const owned: [string, string][] = [
    // Loopback for administration on the node itself; the node's address for peers and clients from other hosts.
    ["listen_addresses", quote(listenAddresses(context).join(","))],
    ["port", String(context.port)],
    // TCP only: no socket file, so no socket-path length limit and no peer/trust via the socket; a restore's setup
    // start alone has one, in the run directory (0700, the service user's).
    ["unix_socket_directories", quote(setup?.directory ?? "")],
    ...(setup === undefined ? [] : [["ident_file", quote(setup.identFile)] as [string, string]]),
    ["password_encryption", quote("scram-sha-256")],
    ["log_destination", quote("stderr")],
    ["logging_collector", "off"],
    ["log_line_prefix", quote("%m [%p] %q%u@%d ")],
    // Every login is in the log: the node agent reads it for superuser logins Holdfast did not make (ADR 0036).
    ["log_connections", "on"],
    ["wal_level", quote("replica")],
    ["max_wal_senders", "10"],
    ["hot_standby", "on"],
    ...tlsSettings(context),
    // Continuous archiving is ready from the first start (archive_mode needs a restart); a flag file turns it on.
    ...archiveSettings(context).map(([name, value]): [string, string] => [name, quote(value)]),
  ];
  const parameters = Object.entries(context.parameters).sort(([a], [b]) => a.localeCompare(b)).map(([name, value]): [string, string] => [name, quote(value)]);
  const lines = [...owned, ...parameters].map(([name, value]) => `${name} = ${value}`);
  // Last, so it wins: the write protection at the storage quota (storage-protection.ts), present only while it holds.
  const storage = `include_if_exists = ${quote(STORAGE_PROTECTION_CONF)}`;
  return ["# Managed by Holdfast: rewritten before every start; edits here are lost.", ...lines, storage, ""].join("\n");
}

/** TLS with the instance's own certificate, TLS 1.3 only (every client Holdfast runs speaks it). */
function tlsSettings(context: InstanceContext): [string, string][] {
  if (context.tls === undefined) return [];
  return [
    ["ssl", "on"],
    ["ssl_cert_file", quote(context.tls.certificateFile)],
    ["ssl_key_file", quote(context.tls.keyFile)],
    ["ssl_min_protocol_version", quote("TLSv1.3")],
  ];
}

/** `ADDRESS/32` (or `/128`) of one host. */
function hostMask(address: string): string {
  return `${address}/${isIP(address) === 6 ? 128 : 32}`;
}

/**
 * pg_hba.conf: password (SCRAM) logins only; no trust, no socket lines (there is no socket: unix_socket_directories is
 * empty). Plain TCP from loopback alone (administration on the node itself); from anywhere else TLS is required
 * (`hostssl`): clients of any host, and replication only from the addresses of the component's instances. Serving
 * clients in TLS only (`tlsOnly`), loopback needs TLS too, so no plaintext connection is accepted at all. Without TLS
 * (the engine alone, in tests) only loopback is allowed.
 */
export function renderPgHba(context: Pick<InstanceContext, "tls" | "peerAddresses" | "tlsOnly"> = {}): string {
  const peers = [...new Set(context.peerAddresses ?? [])].filter((address) => address !== LOOPBACK && isIP(address) !== 0).sort();
  const remote = context.tls === undefined ? [] : [
    "hostssl all          all   0.0.0.0/0     scram-sha-256",
    "hostssl all          all   ::/0          scram-sha-256",
    ...peers.map((address) => `hostssl replication  all   ${hostMask(address)}  scram-sha-256`),
  ];
  const local = context.tls !== undefined && context.tlsOnly === true ? "hostssl" : "host   ";
  return [
    "# Managed by Holdfast: rewritten before every start; edits here are lost.",
    "# TYPE  DATABASE     USER  ADDRESS       METHOD",
    `${local} all          all   127.0.0.1/32  scram-sha-256`,
    `${local} replication  all   127.0.0.1/32  scram-sha-256`,
    ...remote,
    "",
  ].join("\n");
}

/** `postgresql.conf` with the include line appended once; unchanged when it is already there. */
export function withInclude(postgresqlConf: string): string {
  if (postgresqlConf.split("\n").some((line) => line.trim() === INCLUDE_LINE)) return postgresqlConf;
  const separator = postgresqlConf === "" || postgresqlConf.endsWith("\n") ? "" : "\n";
  return `${postgresqlConf}${separator}\n# Added by Holdfast: its settings come last, so they win.\n${INCLUDE_LINE}\n`;
}
