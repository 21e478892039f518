/** Readiness and role of a running PostgreSQL server, asked over an authenticated connection. */
import type pg from "pg";
import type { Credentials } from "../types.ts";
import { withSession } from "./session.ts";

const CONNECT_TIMEOUT_MS = 2000;
const QUERY_TIMEOUT_MS = 2000;

/**
 * `pg_is_in_recovery()` of the server on 127.0.0.1:`port`, or undefined when it cannot be asked. A session as every
 * local one (TLS when the server has it: a server serving clients in TLS only refuses plaintext, ADR 0042).
 */
async function inRecovery(port: number, admin: Credentials): Promise<boolean | undefined> {
  try {
    const query = (client: pg.Client) => client.query<{ in_recovery: boolean }>("select pg_is_in_recovery() as in_recovery");
    const result = await withSession(port, admin, query, { connectTimeoutMs: CONNECT_TIMEOUT_MS, queryTimeoutMs: QUERY_TIMEOUT_MS });
    return result.rows[0]?.in_recovery;
  } catch {
    return undefined;
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
