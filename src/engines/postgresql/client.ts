/** psql and connection URIs for a PostgreSQL instance. */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { findExecutableSync, isExecutableSync } from "../host-binaries.ts";
import { compareVersions } from "../version.ts";
import type { ClientTrust, Credentials, Engine } from "../types.ts";

const DEBIAN_ROOT = "/usr/lib/postgresql";

/** A field of a pgpass line: `\` and `:` escaped with a backslash, as libpq reads it. */
export function escapePgpass(field: string): string {
  return field.replaceAll("\\", "\\\\").replaceAll(":", "\\:");
}

/** The newest installed psql (a newer psql talks to older servers), else the one on PATH. */
function psqlPath(): string {
  let majors: string[] = [];
  try {
    majors = readdirSync(DEBIAN_ROOT).sort((a, b) => compareVersions(b, a));
  } catch {
    // no Debian layout on this host
  }
  const installed = majors.map((major) => join(DEBIAN_ROOT, major, "bin", "psql")).find(isExecutableSync);
  return installed ?? findExecutableSync("psql") ?? "psql";
}

/** psql against `host`:`port`; the password reaches it through a pgpass file named by PGPASSFILE. */
export function postgresqlClientCommand(host: string, port: number, account: Credentials, trust?: ClientTrust): ReturnType<Engine["clientCommand"]> {
  // libpq matches the pgpass host field against the -h value as given (an IPv6 address unbracketed, its colons escaped).
  const line = [host, String(port), "*", account.username, account.password].map(escapePgpass).join(":");
  return {
    command: psqlPath(),
    args: ["-h", host, "-p", String(port), "-U", account.username, "-d", "postgres"],
    env: trust === undefined ? {} : { PGSSLMODE: "verify-full", PGSSLROOTCERT: trust.caFile },
    passwordFile: { envVar: "PGPASSFILE", content: `${line}\n` },
  };
}

/** `postgresql://user:password@host:port/postgres`, each part URI-encoded; with `trust`, `?sslmode=verify-full&sslrootcert=CA`. */
export function postgresqlConnectionUri(host: string, port: number, account: Credentials, trust?: ClientTrust): string {
  const hostPart = host.includes(":") ? `[${host}]` : host;
  const tls = trust === undefined ? "" : `?sslmode=verify-full&sslrootcert=${encodeURIComponent(trust.caFile)}`;
  return `postgresql://${encodeURIComponent(account.username)}:${encodeURIComponent(account.password)}@${hostPart}:${port}/postgres${tls}`;
}
