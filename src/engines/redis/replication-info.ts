/**
 * What an instance says about replication (`INFO replication`), and the same in the engine-neutral shape.
 * Offsets are bytes of the replication stream, comparable between a master and its replicas.
 */
import type { Credentials, ReplicationObservation } from "../types.ts";
import type { RedisTarget } from "./resp.ts";
import { askRedis } from "./session.ts";

/** One replica as its master sees it. */
export interface RedisReplicaLink {
  port: number;
  /** `online`, `wait_bgsave`, `send_bulk`, ... */
  state: string;
  /** Replication offset the replica last acknowledged (acknowledged about once a second). */
  offset: number;
  /** Seconds since the replica's last acknowledgement. */
  lagSeconds: number;
}

/** A master's view. */
export interface RedisMasterInfo {
  role: "master";
  replicationId: string;
  /** Bytes of replication stream produced. */
  offset: number;
  replicas: RedisReplicaLink[];
}

/** A replica's view. */
export interface RedisReplicaInfo {
  role: "replica";
  replicationId: string;
  /** Bytes of the master's stream this replica has processed. */
  offset: number;
  masterPort: number;
  /** Is the link to the master up (`master_link_status:up`)? */
  linkUp: boolean;
  /** Seconds the link has been down, when it is. */
  linkDownSeconds: number | undefined;
  /** Is a full synchronisation running? */
  syncInProgress: boolean;
  /** `replica-priority` (0: never promoted). */
  priority: number;
}

/** What `INFO replication` says. */
export type RedisReplicationInfo = RedisMasterInfo | RedisReplicaInfo;

/** The `field:value` lines of an INFO section. */
export function infoFields(info: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of info.split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon > 0 && !line.startsWith("#")) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

function integer(value: string | undefined): number | undefined {
  return value !== undefined && /^-?[0-9]+$/.test(value) ? Number(value) : undefined;
}

/** `ip=127.0.0.1,port=7102,state=online,offset=10049,lag=1` → a link; undefined when malformed. */
function parseReplicaLink(value: string): RedisReplicaLink | undefined {
  const pairs = new Map(value.split(",").map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)] as const));
  const port = integer(pairs.get("port"));
  const offset = integer(pairs.get("offset"));
  if (port === undefined || offset === undefined) return undefined;
  return { port, state: pairs.get("state") ?? "unknown", offset, lagSeconds: integer(pairs.get("lag")) ?? 0 };
}

function parseMaster(fields: Map<string, string>): RedisMasterInfo | undefined {
  const offset = integer(fields.get("master_repl_offset"));
  if (offset === undefined) return undefined;
  const replicas = [...fields].filter(([key]) => /^slave[0-9]+$/.test(key)).flatMap(([, value]) => parseReplicaLink(value) ?? []);
  return { role: "master", replicationId: fields.get("master_replid") ?? "", offset, replicas };
}

function parseReplica(fields: Map<string, string>): RedisReplicaInfo | undefined {
  const masterPort = integer(fields.get("master_port"));
  const offset = integer(fields.get("slave_repl_offset"));
  if (masterPort === undefined || offset === undefined) return undefined;
  return {
    role: "replica",
    replicationId: fields.get("master_replid") ?? "",
    offset,
    masterPort,
    linkUp: fields.get("master_link_status") === "up",
    linkDownSeconds: integer(fields.get("master_link_down_since_seconds")),
    syncInProgress: fields.get("master_sync_in_progress") === "1",
    priority: integer(fields.get("slave_priority") ?? fields.get("replica_priority")) ?? 100,
  };
}

/** Parse an `INFO replication` reply; undefined when it is not one (pure). */
export function parseReplicationInfo(info: string): RedisReplicationInfo | undefined {
  const fields = infoFields(info);
  const role = fields.get("role");
  if (role === "master") return parseMaster(fields);
  if (role === "slave") return parseReplica(fields);
  return undefined;
}

/** `INFO replication` of the instance at `target`, asked as the administrator; undefined when it cannot be asked. Never throws. */
export async function probeRedisReplication(target: RedisTarget, admin: Credentials, timeoutMs?: number): Promise<RedisReplicationInfo | undefined> {
  try {
    const [info] = await askRedis(target, admin, [["INFO", "replication"]], timeoutMs);
    return typeof info === "string" ? parseReplicationInfo(info) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The engine-neutral observation. Redis has no timeline: 0. Positions are byte offsets as decimal strings.
 * `nameOfPort` names a replica from its port (the controller knows which instance listens where); lag in time
 * is not reported by Redis (its `lag` is the age of the last acknowledgement), so lagMs is undefined.
 */
export function toReplicationObservation(info: RedisReplicationInfo, nameOfPort: (port: number) => string | undefined): ReplicationObservation {
  if (info.role === "master") {
    const replicas = info.replicas.map((link) => ({
      name: nameOfPort(link.port) ?? `127.0.0.1:${link.port}`,
      state: link.state,
      lagBytes: Math.max(0, info.offset - link.offset),
      lagMs: undefined,
    }));
    return { role: "primary", timeline: 0, received: String(info.offset), applied: String(info.offset), streamingFrom: undefined, replicas };
  }
  const streamingFrom = info.linkUp ? info.masterPort : undefined;
  return { role: "secondary", timeline: 0, received: String(info.offset), applied: String(info.offset), streamingFrom, replicas: [] };
}
