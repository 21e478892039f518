/** Short SQL sessions with an instance, for replication setup and probes. */
import pg from "pg";
import { UnavailableError, errorMessage } from "../../errors/index.ts";
import type { Credentials } from "../types.ts";

/** How long to wait for a connection and for each statement. */
export interface SessionOptions {
  connectTimeoutMs?: number;
  queryTimeoutMs?: number;
}

/** A connected client to 127.0.0.1:`port`; the caller ends it. */
async function connect(port: number, account: Credentials, options: SessionOptions): Promise<pg.Client> {
  const client = new pg.Client({
    host: "127.0.0.1",
    port,
    user: account.username,
    password: account.password,
    database: "postgres",
    connectionTimeoutMillis: options.connectTimeoutMs ?? 2000,
    query_timeout: options.queryTimeoutMs ?? 10_000,
    application_name: "holdfast",
  });
  // A server going away mid-session emits 'error' on the client; without a listener it would crash the process.
  client.on("error", () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new UnavailableError(`cannot connect to PostgreSQL on 127.0.0.1:${port}: ${errorMessage(error)}; check that the instance is running`, { cause: error });
  }
  return client;
}

/** Run `work` in a session as `account`, closing it whatever happens. */
export async function withSession<T>(port: number, account: Credentials, work: (client: pg.Client) => Promise<T>, options: SessionOptions = {}): Promise<T> {
  const client = await connect(port, account, options);
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A SQL identifier in double quotes. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A SQL string literal (standard_conforming_strings is on since 9.1). */
export function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
