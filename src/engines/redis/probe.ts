/** Readiness and role of a running Redis server, asked after authenticating as the administrator. */
import type { Credentials } from "../types.ts";
import { respExchange, type RespValue } from "./resp.ts";

/** Replies to AUTH, PING and INFO replication, or undefined when the server cannot be asked. */
async function ask(port: number, admin: Credentials): Promise<RespValue[] | undefined> {
  try {
    // Plain AUTH (not HELLO) keeps the connection on RESP2, which is all the parser speaks.
    return await respExchange(port, [["AUTH", admin.username, admin.password], ["PING"], ["INFO", "replication"], ["QUIT"]]);
  } catch {
    return undefined;
  }
}

/** Did AUTH succeed and PING answer PONG (not LOADING or NOAUTH)? */
function isReady(replies: readonly RespValue[]): boolean {
  return replies[0] === "OK" && replies[1] === "PONG";
}

/** The `role:` field of an INFO replication reply, mapped to Holdfast's role names. */
export function roleFromInfo(info: string): string | undefined {
  const role = /^role:(\w+)\s*$/m.exec(info)?.[1];
  if (role === "master") return "primary";
  if (role === "slave") return "secondary";
  return undefined;
}

/** Does the server accept the administrator and answer PING? Never throws. */
export async function probeRedisReady(port: number, admin: Credentials): Promise<boolean> {
  const replies = await ask(port, admin);
  return replies !== undefined && isReady(replies);
}

/** `primary` for role:master, `secondary` for role:slave, undefined when unreachable. Never throws. */
export async function probeRedisRole(port: number, admin: Credentials): Promise<string | undefined> {
  const replies = await ask(port, admin);
  if (replies === undefined || !isReady(replies)) return undefined;
  const info = replies[2];
  return typeof info === "string" ? roleFromInfo(info) : undefined;
}
