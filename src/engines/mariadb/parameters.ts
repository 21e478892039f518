/** MariaDB settings sized from the component's memory limit. */
import type { ResourceRequirements } from "../../api/index.ts";
import { memoryLimitBytes } from "../resources.ts";

const MIB = 1024 * 1024;

/** Share of the memory limit given to the InnoDB buffer pool; the rest is per-connection buffers, the dictionary, the OS. */
const BUFFER_POOL_SHARE = 0.5;
/** The smallest buffer pool MariaDB 10.11 accepts is 2 MiB; below 32 MiB InnoDB barely works. */
const MIN_BUFFER_POOL = 32 * MIB;
/** One connection's worst-case buffers (sort, join, read, thread stack) are ~12 MiB with the defaults. */
const BYTES_PER_CONNECTION = 12 * MIB;

/**
 * `innodb_buffer_pool_size` = half of `limits.memory` (whole MiB, at least 32 MiB) and `max_connections` from what is
 * left (10..5000); no limit: {} (MariaDB's defaults, a 128 MiB pool).
 */
export function mariadbParametersFor(resources: ResourceRequirements | undefined): Record<string, string> {
  const limit = memoryLimitBytes(resources);
  if (limit === undefined) return {};
  const pool = Math.max(MIN_BUFFER_POOL, Math.floor((limit * BUFFER_POOL_SHARE) / MIB) * MIB);
  const connections = Math.min(5000, Math.max(10, Math.floor((limit - pool) / BYTES_PER_CONNECTION)));
  return { innodb_buffer_pool_size: `${pool / MIB}M`, max_connections: String(connections) };
}
