/**
 * Bringing a former primary back as a standby of the new one: pg_rewind it onto the new timeline,
 * or, when rewinding is impossible, clone it afresh.
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { ConflictError, UnavailableError, errorMessage } from "../../errors/index.ts";
import { markerPath } from "../marker.ts";
import type { CommandSpec, HostAccess, InstanceContext } from "../types.ts";
import { connectionConninfo } from "./conninfo.ts";
import type { ReplicationPlan, UpstreamConnection } from "./replication-config.ts";
import { writeReplicationPassfile } from "./replication-setup.ts";
import { ensureReplicationSlot } from "./replication-slots.ts";
import { isPostgresqlRunning } from "./server-control.ts";
import { withSession } from "./session.ts";
import { cloneStandby, finishStandby, upstreamOf, upstreamServer, type ReplicationAccounts } from "./standby.ts";

const REWIND_TIMEOUT_MS = 30 * 60_000;

/** How the instance came back. */
export interface RejoinResult {
  method: "rewind" | "clone";
  /** Why pg_rewind did not do it, when the instance was cloned instead. */
  rewindError?: string;
}

/**
 * `pg_rewind` of `context`'s data directory onto `upstream`, as the replication account (granted the
 * functions pg_rewind needs). No -R: it would write the password into postgresql.auto.conf.
 */
export function rewindCommand(context: InstanceContext, upstream: UpstreamConnection): CommandSpec {
  return {
    command: join(context.version.binDir, "pg_rewind"),
    args: [`--target-pgdata=${context.dataDirectory}`, `--source-server=${connectionConninfo(upstream, { dbname: "postgres", application_name: `${upstream.applicationName}_rewind` })}`],
    env: { PGPASSFILE: upstream.passfile },
  };
}

/** Prepare the new primary: a checkpoint so pg_rewind sees its new timeline in pg_control, and this standby's slot. */
async function prepareSource(upstream: UpstreamConnection, accounts: ReplicationAccounts): Promise<void> {
  await withSession(upstreamServer(upstream), accounts.admin, (client) => client.query("CHECKPOINT"), { queryTimeoutMs: 120_000 });
  await ensureReplicationSlot(upstreamServer(upstream), accounts.admin, upstream.slotName);
}

/**
 * Rejoin the stopped former primary on `context` as a standby of `plan.upstream`. pg_rewind first
 * (it replays a crashed target to consistency itself); if it fails, and `allowClone` is not false,
 * the data directory is replaced by a fresh clone. Start the instance afterwards.
 */
export async function rejoinAsStandby(context: InstanceContext, plan: ReplicationPlan, accounts: ReplicationAccounts, host: HostAccess, allowClone = true): Promise<RejoinResult> {
  const upstream = upstreamOf(plan, context.instanceName);
  if (await isPostgresqlRunning(context)) {
    throw new ConflictError(`${context.instanceName} is still running: fence (stop) it before it rejoins as a standby`);
  }
  await prepareSource(upstream, accounts);
  await host.mkdir(context.runDirectory);
  await writeReplicationPassfile(plan, accounts.replication, host);
  // Until it is configured as a standby again, the directory must not pass for initialised.
  await rm(markerPath(context.dataDirectory), { force: true });
  try {
    await host.run(rewindCommand(context, upstream), { cwd: context.runDirectory, timeoutMs: REWIND_TIMEOUT_MS });
  } catch (error) {
    if (!allowClone) throw new UnavailableError(`pg_rewind of ${context.instanceName} failed: ${errorMessage(error)}; rejoin it with a fresh clone instead`, { cause: error });
    await cloneStandby(context, plan, accounts, host);
    return { method: "clone", rewindError: errorMessage(error) };
  }
  await finishStandby(context, plan, accounts.replication, host);
  return { method: "rewind" };
}
