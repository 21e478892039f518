/** Readiness and role of a running PostgreSQL server, asked over an authenticated connection. */
import pg from "pg";
import type { Credentials } from "../types.ts";

const CONNECT_TIMEOUT_MS = 2000;
const QUERY_TIMEOUT_MS = 2000;

/** `pg_is_in_recovery()` of the server on 127.0.0.1:`port`, or undefined when it cannot be asked. */
async function inRecovery(port: number, admin: Credentials): Promise<boolean | undefined> {
  const client = new pg.Client({
    host: "127.0.0.1",
    port,
    user: admin.username,
    password: admin.password,
    database: "postgres",
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    query_timeout: QUERY_TIMEOUT_MS,
    application_name: "holdfast-probe",
  });
  // A server going away mid-probe emits 'error' on the client; without a listener it would crash the process.
  client.on("error", () => undefined);
  try {
    await client.connect();
    const result = await client.query<{ in_recovery: boolean }>("select pg_is_in_recovery() as in_recovery");
    return result.rows[0]?.in_recovery;
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Does the server accept the administrator's authenticated queries? Never throws. */
export async function probePostgresqlReady(port: number, admin: Credentials): Promise<boolean> {
  return (await inRecovery(port, admin)) !== undefined;
}

/** `primary` outside recovery, `secondary` in it, undefined when unreachable. Never throws. */
export async function probePostgresqlRole(port: number, admin: Credentials): Promise<string | undefined> {
  const recovery = await inRecovery(port, admin);
  if (recovery === undefined) return undefined;
  return recovery ? "secondary" : "primary";
}
