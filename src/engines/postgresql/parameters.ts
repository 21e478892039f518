/** PostgreSQL memory settings sized from the component's memory limit. */
import type { ResourceRequirements } from "../../api/index.ts";
import { memoryLimitBytes } from "../resources.ts";

const KB = 1024;
const MB = 1024 * KB;
const GB = 1024 * MB;

/** KubeBlocks' PostgreSQL template allows one connection per ~9.1 MiB of memory. */
const BYTES_PER_CONNECTION = 9_531_392;

/** A size PostgreSQL accepts: whole MB when exact, else whole kB (never below `minimumKb`). */
export function formatPostgresSize(bytes: number, minimumKb = 64): string {
  const kb = Math.max(minimumKb, Math.floor(bytes / KB));
  return kb % 1024 === 0 ? `${kb / 1024}MB` : `${kb}kB`;
}

/** max_connections for a memory limit, clamped to 10..5000. */
export function maxConnectionsFor(limitBytes: number): number {
  return Math.min(5000, Math.max(10, Math.floor(limitBytes / BYTES_PER_CONNECTION)));
}

/**
 * Parameters derived from `resources.limits.memory`: 25% shared buffers, 75% cache estimate,
 * limit/16 (≤ 2GB) for maintenance, and work_mem that leaves room for 2 sorts per connection.
 * No limit: {} (PostgreSQL's defaults).
 */
export function postgresqlParametersFor(resources: ResourceRequirements | undefined): Record<string, string> {
  const limit = memoryLimitBytes(resources);
  if (limit === undefined) return {};
  const sharedBuffers = limit / 4;
  const maxConnections = maxConnectionsFor(limit);
  return {
    shared_buffers: formatPostgresSize(sharedBuffers, 128),
    effective_cache_size: formatPostgresSize(limit * 0.75),
    maintenance_work_mem: formatPostgresSize(Math.min(limit / 16, 2 * GB), 1024),
    work_mem: formatPostgresSize((limit - sharedBuffers) / (maxConnections * 2)),
    max_connections: String(maxConnections),
  };
}
