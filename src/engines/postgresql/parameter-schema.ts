/**
 * PostgreSQL's parameters Holdfast lets a Cluster's `configs` and a Reconfiguring set (a documented subset): `dynamic`
 * ones take effect on a reload (PostgreSQL's `sighup`/`user` contexts), `static` ones at a restart (`postmaster`
 * context), `immutable` ones are Holdfast's (replication, archiving, network, files). Sizes take a unit (kB, MB, GB, TB);
 * durations a unit (ms, s, min, h, d) or are milliseconds. `replicaFloor` marks the five a hot standby needs at least as
 * high as its primary's: a rolling change lowering one restarts the primary first.
 */
import type { EngineParameters, ParameterDefinition } from "../parameter-schema.ts";

const KB = 1024;
const MB = 1024 * KB;
const GB = 1024 * MB;
const SIZE_UNITS: Record<string, number> = { B: 1, kB: KB, MB, GB, TB: 1024 * GB };
const DURATION_UNITS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, min: 60_000, h: 3_600_000, d: 86_400_000 };

const HOLDFAST = "Holdfast sets it (replication, failover and backups depend on it)";

const DEFINITIONS: readonly ParameterDefinition[] = [
  { name: "max_connections", type: "integer", policy: "static", min: 10, max: 10_000, replicaFloor: true, default: "100" },
  { name: "shared_buffers", type: "size", policy: "static", min: 128 * KB, max: 1024 * GB },
  { name: "max_worker_processes", type: "integer", policy: "static", min: 0, max: 262_143, replicaFloor: true, default: "8" },
  { name: "max_locks_per_transaction", type: "integer", policy: "static", min: 10, max: 2_147_483_647, replicaFloor: true, default: "64" },
  { name: "max_prepared_transactions", type: "integer", policy: "static", min: 0, max: 262_143, replicaFloor: true, default: "0" },
  { name: "huge_pages", type: "enum", policy: "static", values: ["on", "off", "try"] },
  { name: "shared_preload_libraries", type: "enum", policy: "static", values: ["", "pg_stat_statements"] },
  { name: "work_mem", type: "size", policy: "dynamic", min: 64 * KB, max: 2 * 1024 * GB },
  { name: "maintenance_work_mem", type: "size", policy: "dynamic", min: MB, max: 2 * 1024 * GB },
  { name: "effective_cache_size", type: "size", policy: "dynamic", min: 8 * KB, max: 16 * 1024 * GB },
  { name: "temp_buffers", type: "size", policy: "dynamic", min: 800 * KB, max: 1024 * GB },
  { name: "max_wal_size", type: "size", policy: "dynamic", min: 2 * MB, max: 1024 * GB },
  { name: "min_wal_size", type: "size", policy: "dynamic", min: 2 * MB, max: 1024 * GB },
  { name: "checkpoint_timeout", type: "duration", policy: "dynamic", min: 30_000, max: 86_400_000 },
  { name: "checkpoint_completion_target", type: "number", policy: "dynamic", min: 0, max: 1 },
  { name: "wal_compression", type: "enum", policy: "dynamic", values: ["on", "off", "pglz", "lz4", "zstd"] },
  { name: "statement_timeout", type: "duration", policy: "dynamic", min: 0, max: 2_147_483_647 },
  { name: "lock_timeout", type: "duration", policy: "dynamic", min: 0, max: 2_147_483_647 },
  { name: "idle_in_transaction_session_timeout", type: "duration", policy: "dynamic", min: 0, max: 2_147_483_647 },
  { name: "log_min_duration_statement", type: "duration", policy: "dynamic", min: -1, max: 2_147_483_647 },
  { name: "log_statement", type: "enum", policy: "dynamic", values: ["none", "ddl", "mod", "all"] },
  { name: "log_connections", type: "boolean", policy: "dynamic" },
  { name: "log_disconnections", type: "boolean", policy: "dynamic" },
  { name: "log_lock_waits", type: "boolean", policy: "dynamic" },
  { name: "random_page_cost", type: "number", policy: "dynamic", min: 0, max: 1.79e308 },
  { name: "seq_page_cost", type: "number", policy: "dynamic", min: 0, max: 1.79e308 },
  { name: "effective_io_concurrency", type: "integer", policy: "dynamic", min: 0, max: 1000 },
  { name: "default_statistics_target", type: "integer", policy: "dynamic", min: 1, max: 10_000 },
  { name: "max_parallel_workers_per_gather", type: "integer", policy: "dynamic", min: 0, max: 1024 },
  { name: "max_parallel_workers", type: "integer", policy: "dynamic", min: 0, max: 1024 },
  { name: "track_io_timing", type: "boolean", policy: "dynamic" },
  { name: "autovacuum", type: "boolean", policy: "dynamic" },
  { name: "autovacuum_naptime", type: "duration", policy: "dynamic", min: 1000, max: 2_147_483_000 },
  { name: "autovacuum_vacuum_scale_factor", type: "number", policy: "dynamic", min: 0, max: 100 },
  { name: "timezone", type: "string", policy: "dynamic" },
  { name: "wal_level", type: "enum", policy: "immutable", values: ["replica", "logical"], reason: HOLDFAST },
  { name: "archive_mode", type: "boolean", policy: "immutable", reason: "Holdfast archives WAL itself (continuous backups, ADR 0015)" },
  {
    name: "archive_command",
    type: "string",
    policy: "immutable",
    reason: "Holdfast archives WAL itself: the server hands finished segments to a spool the control plane encrypts into the backup repository; use a BackupPolicy with the archive-wal method instead of a command of your own",
  },
  { name: "restore_command", type: "string", policy: "immutable", reason: "Holdfast restores WAL itself (point-in-time restores)" },
  { name: "synchronous_standby_names", type: "string", policy: "immutable", reason: "the ha controller keeps it (holdfast.io/ha-synchronous sets the quorum)" },
  { name: "synchronous_commit", type: "enum", policy: "immutable", values: ["on", "off", "local", "remote_write", "remote_apply"], reason: HOLDFAST },
  { name: "max_wal_senders", type: "integer", policy: "immutable", reason: HOLDFAST, replicaFloor: true, default: "10" },
  { name: "max_replication_slots", type: "integer", policy: "immutable", reason: HOLDFAST },
  { name: "hot_standby", type: "boolean", policy: "immutable", reason: HOLDFAST },
  { name: "port", type: "integer", policy: "immutable", reason: "Holdfast allocates ports" },
  { name: "listen_addresses", type: "string", policy: "immutable", reason: "Holdfast decides where servers listen" },
  { name: "ssl", type: "boolean", policy: "immutable", reason: "Holdfast decides TLS" },
];

function parseQuantity(type: "size" | "duration", value: string): number | undefined {
  const match = /^\s*(-?\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
  if (match === null) return undefined;
  const units = type === "size" ? SIZE_UNITS : DURATION_UNITS;
  const unit = match[2] ?? "";
  // A size needs its unit (a bare number means pages of different sizes for different parameters); a bare duration is ms.
  const factor = unit === "" ? (type === "duration" ? 1 : undefined) : units[unit];
  return factor === undefined ? undefined : Number(match[1]) * factor;
}

/** PostgreSQL's parameter schema. */
export const POSTGRESQL_PARAMETERS: EngineParameters = {
  definitions: DEFINITIONS,
  parseQuantity,
  booleans: ["on", "off", "true", "false", "yes", "no", "1", "0"],
};
