/** Applying hot-standby-settings.ts: HOT_STANDBY_CONF before a start, and the check of a running standby. */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { Credentials, HostAccess, InstanceContext, ReplicaSettingsDrift } from "../types.ts";
import { controlDataFields, controlDataOutput } from "./control-data.ts";
import { HOT_STANDBY_CONF, HOT_STANDBY_SETTINGS, configuredValues, hotStandbyDrift, raisedValues, recordedValues, renderHotStandbyConf, type HotStandbyValues } from "./hot-standby-settings.ts";
import { withSession } from "./session.ts";

/** The values pg_control of `context` records (the primary's, as last replayed). */
async function readRecordedValues(context: InstanceContext, host: HostAccess): Promise<HotStandbyValues> {
  return recordedValues(controlDataFields(await controlDataOutput(context, host)));
}

/**
 * Before a standby's start (after its replication settings): HOT_STANDBY_CONF raises each of the five settings to the
 * value its pg_control records when that is higher than its own. The raised values, for the caller to report. When
 * pg_control cannot be read (a damaged data directory), nothing is raised: the server's own start then fails and says
 * why, as it would without this step, and the instance is seen crash-looping (what RebuildInstance repairs).
 */
export async function writeHotStandbyConf(context: InstanceContext, replicationSettings: Readonly<Record<string, string>>, host: HostAccess): Promise<HotStandbyValues> {
  const configured = configuredValues(context.parameters, replicationSettings);
  const recorded = await readRecordedValues(context, host).catch(() => configured);
  const raised = raisedValues(configured, recorded);
  await host.writeFile(join(context.dataDirectory, HOT_STANDBY_CONF), renderHotStandbyConf(configured, raised), 0o600);
  return raised;
}

/** A primary runs with its own values: HOT_STANDBY_CONF removed. */
export async function removeHotStandbyConf(context: InstanceContext): Promise<void> {
  await rm(join(context.dataDirectory, HOT_STANDBY_CONF), { force: true });
}

interface RunningSetting {
  name: string;
  setting: string;
  sourcefile: string | null;
}

/** What a running standby says of the five: its values, which of them HOT_STANDBY_CONF gave, and whether its replay is paused. */
interface RunningValues {
  running: HotStandbyValues;
  raised: Set<string>;
  paused: boolean;
}

/** The running server's five values (RunningValues); undefined when it is no standby. */
async function runningValues(context: InstanceContext, admin: Credentials): Promise<RunningValues | undefined> {
  return withSession(context.port, admin, async (client) => {
    const recovery = (await client.query<{ r: boolean; p: boolean | null }>("SELECT pg_catalog.pg_is_in_recovery() AS r, CASE WHEN pg_catalog.pg_is_in_recovery() THEN pg_catalog.pg_is_wal_replay_paused() END AS p")).rows[0];
    if (recovery?.r !== true) return undefined;
    const names = HOT_STANDBY_SETTINGS.map((s) => s.name);
    const rows = (await client.query<RunningSetting>("SELECT name, setting, sourcefile FROM pg_catalog.pg_settings WHERE name = ANY($1)", [names])).rows;
    const running = Object.fromEntries(rows.map((r) => [r.name, Number(r.setting)])) as HotStandbyValues;
    const raised = new Set(rows.filter((r) => r.sourcefile?.endsWith(`/${HOT_STANDBY_CONF}`) === true).map((r) => r.name));
    return { running, raised, paused: recovery.p === true };
  });
}

/**
 * A running standby whose values no longer fit what a start would give it (hotStandbyDrift): below its primary's
 * (PostgreSQL pauses its recovery at such a change), or raised above a primary that has since lowered its own.
 */
export async function hotStandbySettingsDrift(context: InstanceContext, replicationSettings: Readonly<Record<string, string>>, admin: Credentials, host: HostAccess): Promise<ReplicaSettingsDrift | undefined> {
  const seen = await runningValues(context, admin);
  // pg_control takes the primary's new values only when the standby replays their change, and PostgreSQL pauses the
  // replay there when they are above its own: a standby neither paused nor running raised values has no drift, and
  // the check (every few seconds, on every replica) does not run pg_controldata for it.
  if (seen === undefined || (!seen.paused && seen.raised.size === 0)) return undefined;
  const configured = configuredValues(context.parameters, replicationSettings);
  const drift = hotStandbyDrift(seen.running, seen.raised, configured, await readRecordedValues(context, host));
  if (drift === undefined) return undefined;
  const list = drift.settings.join(", ");
  return drift.kind === "below-primary"
    ? { urgent: true, message: `hot standby below its primary's settings (${list}), recovery ${seen.paused ? "paused" : "to pause at the primary's change"}: restarted with the primary's values` }
    : { urgent: false, message: `settings raised to a former primary's no longer needed (${list}): restarted with its own` };
}
