/** libpq connection strings and password files for server-to-server connections (replication, pg_rewind). */
import type { Credentials } from "../types.ts";
import { escapePgpass } from "./client.ts";

/** A libpq `key='value'` connection string; every value single-quoted with `\` and `'` escaped. */
export function renderConninfo(fields: Readonly<Record<string, string | number>>): string {
  return Object.entries(fields)
    .map(([key, value]) => `${key}='${String(value).replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`)
    .join(" ");
}

/** Where and as whom an instance connects to another: the password stays in `passfile`. */
export interface ServerConnection {
  host: string;
  port: number;
  user: string;
  /** A pgpass file (mode 0600, owned by the service user) holding the user's password. */
  passfile: string;
  /** The CA file the server's certificate must be signed by; set, the connection is TLS with verify-full. */
  sslrootcert?: string | undefined;
}

/** libpq settings for TLS that trusts only the CA in `sslrootcert` and checks the server's name (verify-full). */
export function verifyFullSettings(sslrootcert: string | undefined): Record<string, string> {
  return sslrootcert === undefined ? {} : { sslmode: "verify-full", sslrootcert };
}

/** The conninfo of `connection`, naming the passfile instead of carrying a password. */
export function connectionConninfo(connection: ServerConnection, extra: Readonly<Record<string, string | number>> = {}): string {
  return renderConninfo({
    host: connection.host,
    port: connection.port,
    user: connection.user,
    passfile: connection.passfile,
    // Fail over to a new upstream quickly instead of hanging on a dead one.
    connect_timeout: 5,
    ...verifyFullSettings(connection.sslrootcert),
    ...extra,
  });
}

/** A pgpass file letting `account` into any loopback server and database, replication included. */
export function loopbackPassfile(account: Credentials): string {
  return `127.0.0.1:*:*:${escapePgpass(account.username)}:${escapePgpass(account.password)}\n`;
}

/** A pgpass file for `account` on the peer `host` (any port and database, replication included). */
export function peerPassfile(account: Credentials, host: string): string {
  return `${escapePgpass(host)}:*:*:${escapePgpass(account.username)}:${escapePgpass(account.password)}\n`;
}
