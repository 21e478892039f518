/** Redis settings sized from the component's memory limit. */
import type { ResourceRequirements } from "../../api/index.ts";
import { memoryLimitBytes } from "../resources.ts";

/** Share of the memory limit given to data; the rest covers fragmentation, buffers and fork copy-on-write. */
const MAXMEMORY_SHARE = 0.8;

/** `maxmemory` = 80% of `limits.memory` in bytes; no limit: {} (Redis' default, unbounded). */
export function redisParametersFor(resources: ResourceRequirements | undefined): Record<string, string> {
  const limit = memoryLimitBytes(resources);
  if (limit === undefined) return {};
  return { maxmemory: String(Math.floor(limit * MAXMEMORY_SHARE)) };
}
