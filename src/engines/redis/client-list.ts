/**
 * Logins to a Redis server, seen in its list of clients (`CLIENT LIST`): Redis logs no login, so the node agent asks
 * the running server who is connected and as which ACL user. A connection counts once it has run a command other
 * than AUTH or HELLO: until then a client that has not (or not yet) authenticated is listed as `default` too.
 * Refused logins are in its `ACL LOG` (reason `auth`): entries merged per account within 60 s, each with a count.
 */
import type { RespValue } from "./resp.ts";
import type { ClientTrust, ConnectedClientsAnswer, Credentials, DatabaseLogin, RefusalTally } from "../types.ts";
import { loopbackTarget } from "./socket.ts";
import { commandRedis } from "./session.ts";

/** The ACL user that is the administrator (REDIS_ACCOUNTS). */
export const REDIS_SUPERUSERS: readonly string[] = ["default"];

/** Last commands that do not show a client is logged in: none yet, or only the login itself. */
const NOT_YET = new Set(["NULL", "auth", "hello"]);

/** The address and port of `addr=` (`127.0.0.1:5000`, `[::1]:5000`, `::1:5000`). */
function splitAddress(addr: string): { host: string; port: number } {
  const colon = addr.lastIndexOf(":");
  if (colon === -1) return { host: addr, port: 0 };
  const host = addr.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
  return { host, port: Number(addr.slice(colon + 1)) || 0 };
}

/** The `key=value` fields of one line of CLIENT LIST (values hold no space: Redis refuses client names with one). */
function fields(line: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const word of line.trim().split(" ")) {
    const equals = word.indexOf("=");
    if (equals > 0) found.set(word.slice(0, equals), word.slice(equals + 1));
  }
  return found;
}

/** One client of a CLIENT LIST reply: its id, address and ACL user. */
export interface ListedClient {
  id: string;
  addr: string;
  user: string;
}

/** The clients of a CLIENT LIST reply (pure). */
export function listedClients(reply: string): ListedClient[] {
  return reply.split("\n").flatMap((line) => {
    const client = fields(line);
    const [id, addr, user] = [client.get("id"), client.get("addr"), client.get("user")];
    return id === undefined || addr === undefined || user === undefined ? [] : [{ id, addr, user }];
  });
}

/** The logged-in connections of a CLIENT LIST reply, each with when it was opened (`age` seconds before `nowMs`). */
export function parseClientList(reply: string, nowMs: number): DatabaseLogin[] {
  const logins: DatabaseLogin[] = [];
  for (const line of reply.split("\n")) {
    const client = fields(line);
    const user = client.get("user");
    const addr = client.get("addr");
    if (user === undefined || addr === undefined || NOT_YET.has(client.get("cmd") ?? "NULL")) continue;
    const age = Number(client.get("age") ?? 0);
    logins.push({ time: nowMs - (Number.isFinite(age) ? age : 0) * 1000, user, database: client.get("db") ?? "", applicationName: client.get("name") ?? "", ...splitAddress(addr) });
  }
  return logins;
}

/** The fields of one ACL LOG entry (a flat list of names and values). */
function entryFields(entry: RespValue): Map<string, RespValue> {
  const found = new Map<string, RespValue>();
  if (!Array.isArray(entry)) return found;
  for (let i = 0; i + 1 < entry.length; i += 2) {
    const name = entry[i];
    if (typeof name === "string") found.set(name, entry[i + 1] ?? null);
  }
  return found;
}

/**
 * The refused logins of an ACL LOG reply, per account (pure): the counts of its `auth` entries added up, and the
 * address of the account's most recent one (the entries come newest first).
 */
export function parseAclLog(reply: RespValue): RefusalTally[] {
  const tallies = new Map<string, RefusalTally>();
  for (const entry of Array.isArray(reply) ? reply : []) {
    const found = entryFields(entry);
    const user = found.get("username");
    const count = Number(found.get("count"));
    if (found.get("reason") !== "auth" || typeof user !== "string" || !Number.isInteger(count) || count < 0) continue;
    const tally = tallies.get(user);
    if (tally !== undefined) {
      tally.count += count;
      continue;
    }
    const info = found.get("client-info");
    const addr = typeof info === "string" ? fields(info).get("addr") : undefined;
    tallies.set(user, { user, count, ...(addr === undefined ? { host: "", port: 0 } : splitAddress(addr)) });
  }
  return [...tallies.values()];
}

/**
 * The clients connected now to the server on loopback `port` (over TLS checked against `trust` when given), and the
 * logins it refused per account, in one session.
 */
export async function redisConnectedClients(port: number, admin: Credentials, trust?: ClientTrust): Promise<ConnectedClientsAnswer> {
  const [list, log] = await commandRedis(loopbackTarget(port, trust?.caFile), admin, [["CLIENT", "LIST", "TYPE", "normal"], ["ACL", "LOG"]]);
  return { clients: typeof list === "string" ? parseClientList(list, Date.now()) : [], refusals: parseAclLog(log ?? null) };
}
