/** Readiness and role of a running Redis server, asked after authenticating as the administrator. */
import type { ClientTrust, Credentials } from "../types.ts";
import { loopbackTarget, respExchange, type RespValue } from "./resp.ts";

/** Replies to AUTH, PING, INFO replication and INFO server, or undefined when the server cannot be asked. */
async function ask(port: number, admin: Credentials, trust: ClientTrust | undefined): Promise<RespValue[] | undefined> {
  try {
    // Plain AUTH (not HELLO) keeps the connection on RESP2, which is all the parser speaks.
    return await respExchange(loopbackTarget(port, trust?.caFile), [["AUTH", admin.username, admin.password], ["PING"], ["INFO", "replication"], ["INFO", "server"], ["QUIT"]]);
  } catch {
    return undefined;
  }
}

/** Did AUTH succeed and PING answer PONG (not LOADING or NOAUTH)? */
function isReady(replies: readonly RespValue[]): boolean {
  return replies[0] === "OK" && replies[1] === "PONG";
}

/** The role from INFO replication's `role:` field, mapped to Holdfast's names; `sentinel` when INFO server says so. */
export function roleFromInfo(info: string, server = ""): string | undefined {
  if (/^redis_mode:sentinel\s*$/m.test(server)) return "sentinel";
  const role = /^role:(\w+)\s*$/m.exec(info)?.[1];
  if (role === "master") return "primary";
  if (role === "slave") return "secondary";
  return undefined;
}

/** Does the server accept the administrator and answer PING (over TLS checked against `trust` when given)? Never throws. */
export async function probeRedisReady(port: number, admin: Credentials, trust?: ClientTrust): Promise<boolean> {
  const replies = await ask(port, admin, trust);
  return replies !== undefined && isReady(replies);
}

/** `primary` for role:master, `secondary` for role:slave, `sentinel` for a Sentinel, undefined when unreachable. Never throws. */
export async function probeRedisRole(port: number, admin: Credentials, trust?: ClientTrust): Promise<string | undefined> {
  const replies = await ask(port, admin, trust);
  if (replies === undefined || !isReady(replies)) return undefined;
  const [, , info, server] = replies;
  return roleFromInfo(typeof info === "string" ? info : "", typeof server === "string" ? server : "");
}
