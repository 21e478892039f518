/**
 * MariaDB's parameters Holdfast lets a Cluster's `configs` and a Reconfiguring set (a documented subset, with the names
 * MariaDB's system variables have): the two it sizes from the memory limit, and common tunables. MariaDB has no live
 * applier in Holdfast yet, so every change, dynamic ones included, takes effect at a restart with my.cnf rewritten.
 * `immutable` ones are Holdfast's (network, files, binary log, TLS). Sizes are bytes or take K, M, G, T (as my.cnf).
 */
import type { EngineParameters, ParameterDefinition } from "../parameter-schema.ts";

const KIB = 1024;
const MIB = 1024 * KIB;
const GIB = 1024 * MIB;
const SIZE_UNITS: Record<string, number> = { "": 1, K: KIB, M: MIB, G: GIB, T: 1024 * GIB };
const HOLDFAST = "Holdfast sets it (network, files, binary log and TLS are its own)";

const DEFINITIONS: readonly ParameterDefinition[] = [
  { name: "innodb_buffer_pool_size", type: "size", policy: "dynamic", min: 2 * MIB, max: 64 * 1024 * GIB },
  { name: "max_connections", type: "integer", policy: "dynamic", min: 10, max: 100_000 },
  { name: "innodb_log_file_size", type: "size", policy: "dynamic", min: MIB, max: 512 * GIB },
  { name: "innodb_flush_log_at_trx_commit", type: "enum", policy: "dynamic", values: ["0", "1", "2"] },
  { name: "max_allowed_packet", type: "size", policy: "dynamic", min: KIB, max: GIB },
  { name: "wait_timeout", type: "integer", policy: "dynamic", min: 1, max: 31_536_000 },
  { name: "interactive_timeout", type: "integer", policy: "dynamic", min: 1, max: 31_536_000 },
  { name: "long_query_time", type: "number", policy: "dynamic", min: 0, max: 31_536_000 },
  { name: "slow_query_log", type: "boolean", policy: "dynamic" },
  { name: "table_open_cache", type: "integer", policy: "dynamic", min: 1, max: 1_048_576 },
  { name: "tmp_table_size", type: "size", policy: "dynamic", min: KIB, max: 2 ** 50 },
  { name: "max_heap_table_size", type: "size", policy: "dynamic", min: 16 * KIB, max: 2 ** 50 },
  { name: "sql_mode", type: "string", policy: "dynamic" },
  { name: "character_set_server", type: "enum", policy: "dynamic", values: ["utf8mb4", "utf8mb3", "latin1", "binary"] },
  { name: "collation_server", type: "string", policy: "dynamic" },
  { name: "sync_binlog", type: "integer", policy: "dynamic", min: 0, max: 4_294_967_295 },
  { name: "innodb_buffer_pool_instances", type: "integer", policy: "static", min: 1, max: 64 },
  { name: "port", type: "integer", policy: "immutable", reason: "Holdfast allocates ports" },
  { name: "bind_address", type: "string", policy: "immutable", reason: "Holdfast decides where servers listen" },
  { name: "datadir", type: "string", policy: "immutable", reason: HOLDFAST },
  { name: "server_id", type: "integer", policy: "immutable", reason: HOLDFAST },
  { name: "log_bin", type: "string", policy: "immutable", reason: HOLDFAST },
  { name: "binlog_format", type: "enum", policy: "immutable", values: ["ROW", "MIXED", "STATEMENT"], reason: HOLDFAST },
  { name: "gtid_strict_mode", type: "boolean", policy: "immutable", reason: HOLDFAST },
  { name: "read_only", type: "boolean", policy: "immutable", reason: "Holdfast decides an instance's role" },
  { name: "require_secure_transport", type: "boolean", policy: "immutable", reason: "Holdfast decides TLS" },
  { name: "local_infile", type: "boolean", policy: "immutable", reason: "Holdfast keeps LOAD DATA LOCAL off" },
];

function parseQuantity(_type: "size" | "duration", value: string): number | undefined {
  const match = /^\s*(\d+)\s*([a-zA-Z]?)\s*$/.exec(value);
  const factor = match === null ? undefined : SIZE_UNITS[(match[2] ?? "").toUpperCase()];
  return match === null || factor === undefined ? undefined : Number(match[1]) * factor;
}

/** MariaDB's parameter schema. */
export const MARIADB_PARAMETERS: EngineParameters = {
  definitions: DEFINITIONS,
  parseQuantity,
  booleans: ["on", "off", "1", "0", "true", "false"],
};
