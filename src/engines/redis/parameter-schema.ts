/**
 * Redis' parameters Holdfast lets a Cluster's `configs` and a Reconfiguring set (a documented subset): `dynamic` ones
 * are applied with CONFIG SET and kept in redis.conf, `static` ones at a restart, `immutable` ones are Holdfast's
 * (network, files, authentication, replication, AOF on). Sizes are bytes or take k, kb, m, mb, g, gb (as redis.conf).
 */
import type { EngineParameters, ParameterDefinition } from "../parameter-schema.ts";

const SIZE_UNITS: Record<string, number> = { "": 1, b: 1, k: 1000, kb: 1024, m: 1_000_000, mb: 1024 * 1024, g: 1_000_000_000, gb: 1024 * 1024 * 1024 };
const YES_NO = ["yes", "no"] as const;
const HOLDFAST = "Holdfast sets it (network, files, authentication and replication are its own)";

const DEFINITIONS: readonly ParameterDefinition[] = [
  { name: "maxclients", type: "integer", policy: "dynamic", min: 1, max: 65_000 },
  { name: "maxmemory", type: "size", policy: "dynamic", min: 0, max: 2 ** 50 },
  { name: "maxmemory-policy", type: "enum", policy: "dynamic", values: ["noeviction", "allkeys-lru", "volatile-lru", "allkeys-lfu", "volatile-lfu", "allkeys-random", "volatile-random", "volatile-ttl"] },
  { name: "maxmemory-samples", type: "integer", policy: "dynamic", min: 1, max: 64 },
  { name: "appendfsync", type: "enum", policy: "dynamic", values: ["always", "everysec", "no"] },
  { name: "aof-timestamp-enabled", type: "enum", policy: "dynamic", values: YES_NO },
  { name: "aof-use-rdb-preamble", type: "enum", policy: "dynamic", values: YES_NO },
  { name: "auto-aof-rewrite-percentage", type: "integer", policy: "dynamic", min: 0, max: 10_000 },
  { name: "auto-aof-rewrite-min-size", type: "size", policy: "dynamic", min: 0, max: 2 ** 50 },
  { name: "timeout", type: "integer", policy: "dynamic", min: 0, max: 2_147_483_647 },
  { name: "tcp-keepalive", type: "integer", policy: "dynamic", min: 0, max: 2_147_483_647 },
  { name: "slowlog-log-slower-than", type: "integer", policy: "dynamic", min: -1, max: 2 ** 53 },
  { name: "slowlog-max-len", type: "integer", policy: "dynamic", min: 0, max: 2 ** 53 },
  { name: "latency-monitor-threshold", type: "integer", policy: "dynamic", min: 0, max: 2 ** 53 },
  { name: "lazyfree-lazy-eviction", type: "enum", policy: "dynamic", values: YES_NO },
  { name: "lazyfree-lazy-expire", type: "enum", policy: "dynamic", values: YES_NO },
  { name: "notify-keyspace-events", type: "string", policy: "dynamic" },
  { name: "hz", type: "integer", policy: "dynamic", min: 1, max: 500 },
  { name: "databases", type: "integer", policy: "static", min: 1, max: 10_000 },
  { name: "io-threads", type: "integer", policy: "static", min: 1, max: 128 },
  { name: "tcp-backlog", type: "integer", policy: "static", min: 1, max: 65_535 },
  { name: "appendonly", type: "enum", policy: "immutable", values: YES_NO, reason: "Holdfast keeps AOF on: it is what makes an acknowledged write survive a restart" },
  { name: "port", type: "integer", policy: "immutable", reason: "Holdfast allocates ports" },
  { name: "bind", type: "string", policy: "immutable", reason: HOLDFAST },
  { name: "dir", type: "string", policy: "immutable", reason: HOLDFAST },
  { name: "requirepass", type: "string", policy: "immutable", reason: HOLDFAST },
  { name: "masterauth", type: "string", policy: "immutable", reason: HOLDFAST },
  { name: "replicaof", type: "string", policy: "immutable", reason: HOLDFAST },
  { name: "protected-mode", type: "enum", policy: "immutable", values: YES_NO, reason: HOLDFAST },
];

function parseQuantity(_type: "size" | "duration", value: string): number | undefined {
  const match = /^\s*(\d+)\s*([a-zA-Z]*)\s*$/.exec(value);
  const factor = match === null ? undefined : SIZE_UNITS[(match[2] ?? "").toLowerCase()];
  return match === null || factor === undefined ? undefined : Number(match[1]) * factor;
}

/** Redis' parameter schema. */
export const REDIS_PARAMETERS: EngineParameters = {
  definitions: DEFINITIONS,
  parseQuantity,
  booleans: ["yes", "no"],
};
