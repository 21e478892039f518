/**
 * Sessions kept between probes. A node agent asks each local server for its replication state every probe period,
 * and during a role change several times within a few hundred milliseconds (fresh positions, the promotion and its
 * polling); connecting each time costs a backend fork and an authentication, which on a busy machine is most of the
 * probe. One idle session per server, account and statement timeout is kept for the next call (as Patroni keeps its
 * connection), closed after a while unused, and never keeps the process alive.
 */
import { createHash } from "node:crypto";
import type { Socket } from "node:net";
import type pg from "pg";
import type { Credentials } from "../types.ts";
import { connectSession, endWithoutWaiting, type SessionOptions } from "./session.ts";

/** The settings of the sessions probes and promotions share: statements are short, and a slow answer is no answer. */
export const PROBE_SESSION: SessionOptions = { queryTimeoutMs: 2000 };

/** A kept session unused this long is closed. */
const IDLE_CLOSE_MS = 30_000;

interface Parked {
  client: pg.Client;
  timer: NodeJS.Timeout;
}

const parked = new Map<string, Parked>();
/** Sessions the server closed or broke: never reused, and a failure on one is worth a new session. */
const lost = new WeakSet<pg.Client>();

/**
 * Run `work` as `account` on the server at 127.0.0.1:`port`, in the session kept from an earlier call when there is
 * one. A kept session the server has closed since (it restarted) is replaced once by a new one; a statement that
 * fails fails the call, and its session is closed, as `withSession` does.
 */
export async function withKeptSession<T>(port: number, account: Credentials, work: (client: pg.Client) => Promise<T>, options: SessionOptions = {}): Promise<T> {
  const key = keyOf(port, account, options);
  const reused = take(key);
  if (reused !== undefined) {
    const outcome = await attempt(key, reused, work);
    if (outcome.ok) return outcome.value;
    if (!outcome.serverClosed) throw outcome.error;
  }
  const outcome = await attempt(key, await connect(port, account, options), work);
  if (outcome.ok) return outcome.value;
  throw outcome.error;
}

async function connect(port: number, account: Credentials, options: SessionOptions): Promise<pg.Client> {
  const client = await connectSession(port, account, options);
  client.on("error", () => lost.add(client));
  client.on("end", () => lost.add(client));
  return client;
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown; serverClosed: boolean };

/** Run `work` on `client` and park it for the next call; on failure close it, saying whether the server had closed it. */
async function attempt<T>(key: string, client: pg.Client, work: (client: pg.Client) => Promise<T>): Promise<Outcome<T>> {
  try {
    const value = await work(client);
    park(key, client);
    return { ok: true, value };
  } catch (error) {
    const serverClosed = lost.has(client);
    close(client);
    return { ok: false, error, serverClosed };
  }
}

/**
 * Close a session without waiting for the server: one that stopped answering (SIGSTOP, a host cut off) never
 * acknowledges the end, and a probe that waited for it would hang, its failures never counted.
 */
function close(client: pg.Client): void {
  lost.add(client);
  endWithoutWaiting(client);
}

/** End a session that just answered (one too many, or unused for long): politely, without waiting either. */
function endHealthy(client: pg.Client): void {
  lost.add(client);
  void client.end().catch(() => undefined);
}

function take(key: string): pg.Client | undefined {
  const entry = parked.get(key);
  if (entry === undefined) return undefined;
  parked.delete(key);
  clearTimeout(entry.timer);
  if (lost.has(entry.client)) {
    close(entry.client);
    return undefined;
  }
  socketOf(entry.client)?.ref();
  return entry.client;
}

function park(key: string, client: pg.Client): void {
  if (lost.has(client) || parked.has(key)) {
    endHealthy(client);
    return;
  }
  const timer = setTimeout(() => {
    if (parked.get(key)?.client !== client) return;
    parked.delete(key);
    endHealthy(client);
  }, IDLE_CLOSE_MS);
  timer.unref();
  socketOf(client)?.unref();
  parked.set(key, { client, timer });
}

/** The session's socket: unreferenced while parked, so a kept session never holds a process open. */
function socketOf(client: pg.Client): Socket | undefined {
  const stream = client.connection.stream as Partial<Socket>;
  return typeof stream.unref === "function" && typeof stream.ref === "function" ? (stream as Socket) : undefined;
}

/** Sessions are kept apart per server, account (its password only as a hash) and statement timeout. */
function keyOf(port: number, account: Credentials, options: SessionOptions): string {
  const password = createHash("sha256").update(account.password).digest("base64url");
  return JSON.stringify([port, account.username, password, options.connectTimeoutMs ?? null, options.queryTimeoutMs ?? null]);
}
