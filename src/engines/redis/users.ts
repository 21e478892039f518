/**
 * Redis' managed users (ADR 0046): an ACL user set in one `ACL SETUSER … reset …` command (all rules or none), so it
 * holds exactly what its grants list: key patterns (`~`), channels (`&`), command categories and commands from an
 * allow-list, and never a dangerous or administrative command (`-@dangerous -@admin` last). Its passwords are given as
 * SHA-256 (`#…`), never in plain text. ACL users do not replicate: applied on every instance.
 */
import { z } from "zod";
import type { ClientTrust, Credentials, EngineUsers, GrantProblem, InstanceContext } from "../types.ts";
import { grantProblems } from "../grant-problems.ts";
import { aclPasswordHash } from "./config.ts";
import { loopbackTarget, type RedisTarget } from "./resp.ts";
import { askRedis, commandRedis } from "./session.ts";

/** Command categories a managed user may be granted (no `@admin`, `@dangerous`, `@scripting`, `@all`). */
export const REDIS_GRANT_CATEGORIES = ["read", "write", "keyspace", "string", "hash", "list", "set", "sortedset", "stream", "bitmap", "hyperloglog", "geo", "pubsub", "transaction", "connection", "fast", "slow"] as const;

/** Commands a managed user may be granted one by one: data commands only. */
export const REDIS_GRANT_COMMANDS = [
  "get", "mget", "set", "setnx", "setex", "psetex", "mset", "getset", "getdel", "getex", "getrange", "setrange", "append", "strlen",
  "incr", "incrby", "incrbyfloat", "decr", "decrby", "del", "unlink", "exists", "expire", "pexpire", "expireat", "ttl", "pttl", "persist", "type", "scan",
  "hget", "hset", "hsetnx", "hmget", "hmset", "hdel", "hgetall", "hkeys", "hvals", "hlen", "hexists", "hincrby", "hincrbyfloat", "hscan",
  "lpush", "rpush", "lpop", "rpop", "lrange", "llen", "lindex", "lset", "lrem", "ltrim", "blpop", "brpop", "lmove", "blmove",
  "sadd", "srem", "smembers", "sismember", "scard", "spop", "srandmember", "sscan",
  "zadd", "zrem", "zrange", "zrangebyscore", "zrevrange", "zscore", "zcard", "zincrby", "zrank", "zrevrank", "zcount", "zscan",
  "xadd", "xread", "xrange", "xrevrange", "xlen", "xack", "xreadgroup", "xgroup", "xdel", "xtrim",
  "publish", "subscribe", "psubscribe", "unsubscribe", "punsubscribe", "multi", "exec", "discard", "watch", "unwatch", "ping", "echo",
] as const;

/** Commands in @read or @keyspace that answer with other keys' names. */
const NAME_LISTING = ["scan", "randomkey"] as const;

/** A key or channel pattern: printable, no space (Redis splits rules on spaces), not a selector or a read/write prefix. */
const pattern = z.string().regex(/^[!-~]{1,256}$/, "must be 1 to 256 printable characters without spaces").refine((p) => !p.startsWith("%") && !p.startsWith("("), "must not start with '%' or '('");

/** One Redis grant: commands (by category or name) on keys matching the patterns, and pub/sub channels. */
export const redisGrantSchema = z.strictObject({
  keys: z.array(pattern).min(1, "list at least one key pattern, e.g. app:*"),
  categories: z.array(z.enum(REDIS_GRANT_CATEGORIES, { error: `must be one of ${REDIS_GRANT_CATEGORIES.join(", ")}` })).default([]),
  commands: z.array(z.enum(REDIS_GRANT_COMMANDS, { error: "must be a data command such as get, set, hget (administrative and dangerous commands are not granted)" })).default([]),
  channels: z.array(pattern).default([]),
}).refine((g) => g.categories.length + g.commands.length > 0, { error: "list at least one category or command", path: ["categories"] });
export type RedisGrant = z.infer<typeof redisGrantSchema>;

/** The problems of each grant, by path below `spec.grants` (pure). */
export function redisGrantProblems(grants: readonly Record<string, unknown>[]): GrantProblem[] {
  return grantProblems(redisGrantSchema, grants);
}

/** `default` is Redis' own user. */
export function redisUsernameProblem(username: string): string | undefined {
  return username === "default" ? "default is Redis' built-in user" : undefined;
}

/** The `ACL SETUSER` arguments of the user: reset, on, its passwords' SHA-256, then its grants, dangerous and admin commands removed last (pure). */
export function userRules(account: Credentials, grants: readonly RedisGrant[]): string[] {
  const unique = (values: string[]): string[] => [...new Set(values)];
  const passwords = [account.password, ...(account.otherPasswords ?? [])].map(aclPasswordHash);
  return [
    "reset",
    "on",
    ...passwords,
    ...unique(grants.flatMap((g) => g.keys.map((k) => `~${k}`))),
    ...unique(grants.flatMap((g) => g.channels.map((c) => `&${c}`))),
    ...unique(grants.flatMap((g) => g.categories.map((c) => `+@${c}`))),
    ...unique(grants.flatMap((g) => g.commands.map((c) => `+${c}`))),
    "-@dangerous",
    "-@admin",
    // They name keys outside the patterns (ACL does not filter their answers): only when granted by name.
    ...NAME_LISTING.filter((c) => !grants.some((g) => (g.commands as readonly string[]).includes(c))).map((c) => `-${c}`),
  ];
}

function targetOf(context: InstanceContext, trust: ClientTrust): RedisTarget {
  return loopbackTarget(context.port, context.tls === undefined ? undefined : trust.caFile);
}

async function apply(context: InstanceContext, admin: Credentials, account: Credentials, raw: readonly Record<string, unknown>[], trust: ClientTrust): Promise<void> {
  const grants = raw.map((g) => redisGrantSchema.parse(g));
  await commandRedis(targetOf(context, trust), admin, [["ACL", "SETUSER", account.username, ...userRules(account, grants)]]);
}

async function drop(context: InstanceContext, admin: Credentials, username: string, trust: ClientTrust): Promise<void> {
  // ACL DELUSER also disconnects the user's clients; a user already gone answers 0.
  await askRedis(targetOf(context, trust), admin, [["ACL", "DELUSER", username]]);
}

/** Redis' managed users. */
export const REDIS_USERS: EngineUsers = {
  scope: "every",
  usernameProblem: redisUsernameProblem,
  grantProblems: redisGrantProblems,
  apply,
  drop,
};
