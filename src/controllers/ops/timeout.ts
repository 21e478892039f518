/** How long an OpsRequest may run. */
import type { OpsRequest } from "../../api/index.ts";

/** How long an OpsRequest without `timeoutSeconds` (or with 0) may run before it fails, so one that cannot progress never blocks the cluster's later ones. */
export const DEFAULT_OPS_TIMEOUT_SECONDS = 1800;

/** The seconds an operation may run: its `timeoutSeconds`, else (absent or 0) the default. */
export function opsTimeoutSeconds(ops: OpsRequest): number {
  const limit = ops.spec.timeoutSeconds;
  return limit === undefined || limit === 0 ? DEFAULT_OPS_TIMEOUT_SECONDS : limit;
}
