/** Fencing a replicated instance: the engine's own stop, which leaves nothing running on its data. */
import type { EngineReplication, HostAccess, InstanceContext } from "../engines/index.ts";

/**
 * Stop everything of the instance on `context` (a start that was under way included) and read where its WAL ends,
 * for a switchover's catch-up; undefined when that is not known (a crash, a data directory never initialised).
 */
export async function fenceInstance(replication: EngineReplication, context: InstanceContext, host: HostAccess): Promise<string | undefined> {
  await replication.fence(context, host);
  return replication.finalPosition(context, host).catch(() => undefined);
}
