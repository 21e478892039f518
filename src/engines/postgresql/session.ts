/** Short SQL sessions with an instance, for replication setup and probes. */
import type { Socket } from "node:net";
import pg from "pg";
import { UnavailableError, errorMessage } from "../../errors/index.ts";
import { LOOPBACK, verifyingTlsOptions, type PeerServer } from "../address.ts";
import type { Credentials } from "../types.ts";
import { HOLDFAST_SESSIONS } from "../own-sessions.ts";

/** A server on this node (its port, over loopback), or another instance's (with TLS when a CA file is given). */
export type SessionTarget = number | PeerServer;

/** The address of `target`, for messages. */
export function targetName(target: SessionTarget): string {
  return typeof target === "number" ? `${LOOPBACK}:${target}` : `${target.host}:${target.port}`;
}

/**
 * Connection settings of `target`: over loopback TLS when the server has it (libpq's `sslmode=prefer`: a server
 * serving clients in TLS only refuses plaintext even there, ADR 0042; the name is not checked on loopback, as the
 * plaintext it replaces was not), TLS verified against the CA (verify-full) otherwise.
 */
async function targetSettings(target: SessionTarget, loopbackTls: boolean): Promise<pg.ClientConfig> {
  if (typeof target === "number") return loopbackTls ? { host: LOOPBACK, port: target, ssl: { rejectUnauthorized: false } } : { host: LOOPBACK, port: target };
  const ssl = target.caFile === undefined ? undefined : await verifyingTlsOptions(target.host, target.caFile);
  return { host: target.host, port: target.port, ...(ssl === undefined ? {} : { ssl }) };
}

/** How long to wait for a connection and for each statement. */
export interface SessionOptions {
  connectTimeoutMs?: number;
  queryTimeoutMs?: number;
  /** The database to connect to (default `postgres`). */
  database?: string;
}

/** node-postgres' error when a server answers a TLS request with "no" (it runs without ssl). */
const NO_TLS = "The server does not support SSL connections";

/** A connected client to `target`; the caller ends it. On loopback, plaintext when the server has no TLS. */
async function connectSession(target: SessionTarget, account: Credentials, options: SessionOptions): Promise<pg.Client> {
  try {
    return await connectOnce(target, account, options, true);
  } catch (error) {
    if (typeof target !== "number" || !(error instanceof UnavailableError) || !errorMessage(error).includes(NO_TLS)) throw error;
    return connectOnce(target, account, options, false);
  }
}

async function connectOnce(target: SessionTarget, account: Credentials, options: SessionOptions, loopbackTls: boolean): Promise<pg.Client> {
  const client = new pg.Client({
    ...(await targetSettings(target, loopbackTls)),
    user: account.username,
    password: account.password,
    database: options.database ?? "postgres",
    connectionTimeoutMillis: options.connectTimeoutMs ?? 2000,
    query_timeout: options.queryTimeoutMs ?? 10_000,
    application_name: "holdfast",
  });
  // A server going away mid-session emits 'error' on the client; without a listener it would crash the process.
  client.on("error", () => undefined);
  // Noted before the server can log the login, so the login watch knows it for Holdfast's own.
  const socket = client.connection.stream as Partial<Socket>;
  socket.once?.("connect", () => HOLDFAST_SESSIONS.opened(socket.localPort));
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new UnavailableError(`cannot connect to PostgreSQL on ${targetName(target)}: ${errorMessage(error)}; check that the instance is running`, { cause: error });
  }
  return client;
}

/** Run `work` in a session as `account`, closing it whatever happens. */
export async function withSession<T>(target: SessionTarget, account: Credentials, work: (client: pg.Client) => Promise<T>, options: SessionOptions = {}): Promise<T> {
  const client = await connectSession(target, account, options);
  let result: T;
  try {
    result = await work(client);
  } catch (error) {
    endWithoutWaiting(client);
    throw error;
  }
  await client.end().catch(() => undefined);
  return result;
}

/**
 * End a session without waiting for the server: after a statement timed out the server may not answer at all
 * (stopped with SIGSTOP, its host cut off), and waiting for it to acknowledge the end would hang the caller.
 */
function endWithoutWaiting(client: pg.Client): void {
  void client.end().catch(() => undefined);
  (client.connection.stream as Partial<Socket>).destroy?.();
}

/** A SQL identifier in double quotes. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A SQL string literal (standard_conforming_strings is on since 9.1). */
export function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
