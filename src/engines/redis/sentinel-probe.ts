/** Asking Sentinels who the master is, what they know of the replicas, and whether they can fail over. */
import { ConflictError, UnavailableError } from "../../errors/index.ts";
import type { Credentials } from "../types.ts";
import { describeTarget, RespError, targetAddress, type RedisTarget, type RespValue } from "./resp.ts";
import { askRedis, commandRedis } from "./session.ts";

/** A flat `[field, value, field, value, ...]` reply as a map (pure); non-string entries are skipped. */
export function fieldPairs(reply: RespValue): Map<string, string> {
  const fields = new Map<string, string>();
  if (!Array.isArray(reply)) return fields;
  for (let i = 0; i + 1 < reply.length; i += 2) {
    const key = reply[i];
    const value = reply[i + 1];
    if (typeof key === "string" && typeof value === "string") fields.set(key, value);
  }
  return fields;
}

/** The port of a `[host, port]` reply of `SENTINEL get-master-addr-by-name`; undefined for a null reply (pure). */
export function parseMasterAddress(reply: RespValue): number | undefined {
  return parseMasterHostPort(reply)?.port;
}

/** The host and port of a `[host, port]` reply of `SENTINEL get-master-addr-by-name`; undefined for a null reply (pure). */
export function parseMasterHostPort(reply: RespValue): { host: string; port: number } | undefined {
  if (!Array.isArray(reply)) return undefined;
  const [host, port] = reply;
  return typeof host === "string" && typeof port === "string" && /^[0-9]{1,5}$/.test(port) ? { host, port: Number(port) } : undefined;
}

/** Which port a Sentinel says the master of `name` listens on; undefined when it cannot be asked or does not know. Never throws. */
export async function sentinelMasterPort(sentinel: RedisTarget, admin: Credentials, name: string): Promise<number | undefined> {
  try {
    const [reply] = await askRedis(sentinel, admin, [["SENTINEL", "GET-MASTER-ADDR-BY-NAME", name]], 1000);
    return reply === undefined ? undefined : parseMasterAddress(reply);
  } catch {
    return undefined;
  }
}

/** A replica as a Sentinel sees it. */
export interface SentinelReplicaView {
  /** The address the Sentinel knows it by (`ip`). */
  host: string;
  port: number;
  /** `slave`, plus `s_down`, `disconnected`, ... */
  flags: string[];
  /** `ok` or `err`. */
  masterLinkStatus: string;
  offset: number;
  priority: number;
}

/** One entry of `SENTINEL REPLICAS` (pure); undefined when it lacks a port. */
export function parseSentinelReplica(reply: RespValue): SentinelReplicaView | undefined {
  const fields = fieldPairs(reply);
  const port = Number(fields.get("port"));
  if (!Number.isInteger(port) || port <= 0) return undefined;
  return {
    host: fields.get("ip") ?? "127.0.0.1",
    port,
    flags: (fields.get("flags") ?? "").split(",").filter((flag) => flag !== ""),
    masterLinkStatus: fields.get("master-link-status") ?? "unknown",
    offset: Number(fields.get("slave-repl-offset") ?? "0"),
    priority: Number(fields.get("slave-priority") ?? "100"),
  };
}

/** The replicas of `name` a Sentinel knows. Throws UnavailableError when it cannot be asked. */
export async function sentinelReplicas(sentinel: RedisTarget, admin: Credentials, name: string): Promise<SentinelReplicaView[]> {
  const [reply] = await commandRedis(sentinel, admin, [["SENTINEL", "REPLICAS", name]]);
  return Array.isArray(reply) ? reply.flatMap((entry) => parseSentinelReplica(entry) ?? []) : [];
}

/** What a Sentinel knows of the master `name` (`SENTINEL MASTER`): flags, other Sentinels, quorum, ... */
export async function sentinelMasterFields(sentinel: RedisTarget, admin: Credentials, name: string): Promise<Map<string, string>> {
  const [reply] = await commandRedis(sentinel, admin, [["SENTINEL", "MASTER", name]]);
  return fieldPairs(reply ?? null);
}

/** `SENTINEL CKQUORUM`: can the Sentinels reach the quorum and a majority to authorise a failover now? */
export async function sentinelCkquorum(sentinel: RedisTarget, admin: Credentials, name: string): Promise<{ ok: boolean; message: string }> {
  const [reply] = await askRedis(sentinel, admin, [["SENTINEL", "CKQUORUM", name]]);
  return parseCkquorum(reply ?? null);
}

/** A `SENTINEL CKQUORUM` reply: `OK ...`, or an error saying what is missing (pure). */
export function parseCkquorum(reply: RespValue): { ok: boolean; message: string } {
  if (reply instanceof RespError) return { ok: false, message: reply.message };
  return { ok: typeof reply === "string" && reply.startsWith("OK"), message: typeof reply === "string" ? reply : "unexpected reply" };
}

/**
 * `SENTINEL FAILOVER`: this Sentinel promotes a replica without asking the others. Throws ConflictError when a
 * failover is already running, UnavailableError when no replica can be promoted or the Sentinel cannot be asked.
 */
export async function sentinelFailover(sentinel: RedisTarget, admin: Credentials, name: string): Promise<void> {
  const [reply] = await askRedis(sentinel, admin, [["SENTINEL", "FAILOVER", name]]);
  if (reply === "OK") return;
  const message = reply instanceof RespError ? reply.message : "unexpected reply";
  if (message.startsWith("INPROG")) throw new ConflictError(`a failover of ${name} is already in progress: wait for it to finish, then retry`);
  throw new UnavailableError(`Sentinel on ${describeTarget(sentinel)} cannot fail over ${name}: ${message}`);
}

/** `SENTINEL RESET`: forget the replicas and Sentinels of `name` and rediscover them (after removing an instance). */
export async function sentinelReset(sentinel: RedisTarget, admin: Credentials, name: string): Promise<void> {
  await commandRedis(sentinel, admin, [["SENTINEL", "RESET", name]]);
}

/** What each Sentinel answered; undefined where it could not be asked or did not know. */
export interface SentinelAnswers {
  answers: { sentinelPort: number; masterPort: number | undefined }[];
  /** The master a majority of all Sentinels (answering or not) names; undefined without a majority. */
  agreedMasterPort: number | undefined;
}

/** The master port named by more than half of `sentinelCount` Sentinels, if any (pure). */
export function agreedMaster(answers: readonly (number | undefined)[], sentinelCount: number): number | undefined {
  const votes = new Map<number, number>();
  for (const port of answers) if (port !== undefined) votes.set(port, (votes.get(port) ?? 0) + 1);
  for (const [port, count] of votes) if (count > sentinelCount / 2) return port;
  return undefined;
}

/** Ask every Sentinel who the master of `name` is. Never throws. */
export async function askSentinels(sentinels: readonly RedisTarget[], admin: Credentials, name: string): Promise<SentinelAnswers> {
  const ports = await Promise.all(sentinels.map((sentinel) => sentinelMasterPort(sentinel, admin, name)));
  const answers = sentinels.map((sentinel, i) => ({ sentinelPort: targetAddress(sentinel).port, masterPort: ports[i] }));
  return { answers, agreedMasterPort: agreedMaster(ports, sentinels.length) };
}

/**
 * Poll the Sentinels every `pollMs` until a majority names a master `accept` approves, or `timeoutMs` passes;
 * that master's port, or undefined at the deadline. Never throws.
 */
export async function waitForAgreedMaster(
  sentinel: { ports: readonly RedisTarget[]; masterName: string; admin: Credentials },
  accept: (masterPort: number) => boolean,
  options: { timeoutMs: number; pollMs?: number },
): Promise<number | undefined> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const { agreedMasterPort } = await askSentinels(sentinel.ports, sentinel.admin, sentinel.masterName);
    if (agreedMasterPort !== undefined && accept(agreedMasterPort)) return agreedMasterPort;
    if (Date.now() >= deadline) return undefined;
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 50));
  }
}
