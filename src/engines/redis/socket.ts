/** Where a Redis server or Sentinel is reached, and the connection to it: plain TCP on loopback, or verified TLS. */
import { connect, type Socket } from "node:net";
import { connect as connectTls } from "node:tls";
import { LOOPBACK, verifyingTlsOptions, type PeerServer } from "../address.ts";
import { HOLDFAST_SESSIONS } from "../own-sessions.ts";

/**
 * A Redis server or Sentinel: a port on 127.0.0.1 in plain TCP, or a host and port, with TLS verified against the CA
 * in `caFile` (and the certificate checked against `host`) when it is given. Since ADR 0030 every server the node
 * agent runs speaks TLS only; plain targets remain for the engine's own tests.
 */
export type RedisTarget = number | PeerServer;

/** The host and port of `target` (pure). */
export function targetAddress(target: RedisTarget): { host: string; port: number } {
  return typeof target === "number" ? { host: LOOPBACK, port: target } : { host: target.host, port: target.port };
}

/** `host:port` of `target`, for messages (pure). */
export function describeTarget(target: RedisTarget): string {
  const { host, port } = targetAddress(target);
  return `${host}:${port}`;
}

/** The server on `port` of this node's loopback: over TLS checked against `caFile` when given, else plain (pure). */
export function loopbackTarget(port: number, caFile: string | undefined): RedisTarget {
  return caFile === undefined ? port : { host: LOOPBACK, port, caFile };
}

/** A socket being opened to a server, and the event it emits once commands may be written. */
export interface RedisSocket {
  socket: Socket;
  readyEvent: "connect" | "secureConnect";
}

/**
 * Open a connection to `target` (the caller listens for `readyEvent`, errors and close, and destroys it). Its local
 * port is noted as this process' own (HOLDFAST_SESSIONS), so the login watch does not take it for someone else's.
 */
export async function openRedisSocket(target: RedisTarget): Promise<RedisSocket> {
  const { host, port } = targetAddress(target);
  const opened = await connectTo(target, host, port);
  opened.socket.once("connect", () => HOLDFAST_SESSIONS.opened(opened.socket.localPort));
  return opened;
}

async function connectTo(target: RedisTarget, host: string, port: number): Promise<RedisSocket> {
  if (typeof target === "number" || target.caFile === undefined) return { socket: connect({ host, port }), readyEvent: "connect" };
  const options = await verifyingTlsOptions(host, target.caFile);
  return { socket: connectTls({ ...options, host, port }), readyEvent: "secureConnect" };
}
