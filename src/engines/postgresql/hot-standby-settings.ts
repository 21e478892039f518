/**
 * The five settings a hot standby needs at least as high as its primary's (max_connections, max_worker_processes,
 * max_wal_senders, max_prepared_transactions, max_locks_per_transaction), planned without I/O.
 *
 * PostgreSQL records the values its primary runs with in the standby's own pg_control (the last parameter-change
 * record replayed, or the primary's values copied by a base backup or pg_rewind). A standby started below them stops
 * ("recovery aborted because of insufficient parameter settings"); one running below a change it replays pauses its
 * recovery ("hot standby is not possible because of insufficient parameter settings") until it is restarted with
 * enough. So a standby starts with, for each, the higher of its own value and the recorded one, as Patroni does, and a
 * running standby whose values no longer match what a start would give is restarted (ADR 0041, since 2026-12-07).
 */
import { POSTGRESQL_PARAMETERS } from "./parameter-schema.ts";
import { quote } from "./config.ts";

/** Each setting and the label pg_controldata prints its recorded value under. */
export const HOT_STANDBY_SETTINGS = [
  { name: "max_connections", label: "max_connections setting" },
  { name: "max_worker_processes", label: "max_worker_processes setting" },
  { name: "max_wal_senders", label: "max_wal_senders setting" },
  { name: "max_prepared_transactions", label: "max_prepared_xacts setting" },
  { name: "max_locks_per_transaction", label: "max_locks_per_xact setting" },
] as const;

/** The name of one of the five settings. */
export type HotStandbySetting = (typeof HOT_STANDBY_SETTINGS)[number]["name"];

/** Values of the five settings (those known). */
export type HotStandbyValues = Partial<Record<HotStandbySetting, number>>;

/** The file a standby's raised values are written to, included last from the replication settings. */
export const HOT_STANDBY_CONF = "holdfast-hot-standby.conf";

function integer(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value.trim());
}

/** The values pg_control records, from pg_controldata's fields (controlDataFields). */
export function recordedValues(fields: ReadonlyMap<string, string>): HotStandbyValues {
  const values: HotStandbyValues = {};
  for (const { name, label } of HOT_STANDBY_SETTINGS) {
    const value = integer(fields.get(label));
    if (value !== undefined) values[name] = value;
  }
  return values;
}

/**
 * The values the instance's own configuration gives: Holdfast's replication settings (which win over the user's
 * parameters, as their file is read later), then the user's parameters, then PostgreSQL's defaults.
 */
export function configuredValues(parameters: Readonly<Record<string, string>>, replicationSettings: Readonly<Record<string, string>>): HotStandbyValues {
  const values: HotStandbyValues = {};
  for (const { name } of HOT_STANDBY_SETTINGS) {
    const fallback = POSTGRESQL_PARAMETERS.definitions.find((d) => d.name === name)?.default;
    const value = integer(replicationSettings[name] ?? parameters[name] ?? fallback);
    if (value !== undefined) values[name] = value;
  }
  return values;
}

/** The values a standby starts with: for each, the higher of its own and the recorded one. */
export function standbyStartValues(configured: HotStandbyValues, recorded: HotStandbyValues): HotStandbyValues {
  const values: HotStandbyValues = {};
  for (const { name } of HOT_STANDBY_SETTINGS) {
    const highest = Math.max(configured[name] ?? 0, recorded[name] ?? 0);
    if (configured[name] !== undefined || recorded[name] !== undefined) values[name] = highest;
  }
  return values;
}

/** Where a standby's start values are above its own configuration: what HOT_STANDBY_CONF raises. */
export function raisedValues(configured: HotStandbyValues, recorded: HotStandbyValues): HotStandbyValues {
  const start = standbyStartValues(configured, recorded);
  const raised: HotStandbyValues = {};
  for (const { name } of HOT_STANDBY_SETTINGS) {
    const value = start[name];
    if (value !== undefined && value > (configured[name] ?? 0)) raised[name] = value;
  }
  return raised;
}

/** The content of HOT_STANDBY_CONF: the raised values, each with the value it replaces. */
export function renderHotStandbyConf(configured: HotStandbyValues, raised: HotStandbyValues): string {
  const lines = Object.entries(raised).map(([name, value]) => `${name} = ${quote(String(value))}  # own value ${configured[name as HotStandbySetting] ?? "unset"}, below the primary's`);
  return ["# Managed by Holdfast: a standby's settings raised to its primary's (pg_controldata); rewritten before every start.", ...lines, ""].join("\n");
}

/** Why a running standby's values no longer fit: below what its primary runs (paused or about to be), or raised for nothing now. */
export interface HotStandbyDrift {
  kind: "below-primary" | "raised-no-longer-needed";
  /** e.g. `max_connections 112 (primary 225)`. */
  settings: string[];
}

/**
 * Does a running standby (values `running`) need a restart to get the values a start would give it now? Below the
 * recorded (primary's) values comes first: its recovery pauses at such a change. Otherwise, a value raised at its start
 * (`raisedAtStart`: read from HOT_STANDBY_CONF) and now above both its own and the recorded one (the primary lowered
 * its own since) goes back to its own. A value set elsewhere (ALTER SYSTEM) is never taken for a raise.
 */
export function hotStandbyDrift(running: HotStandbyValues, raisedAtStart: ReadonlySet<string>, configured: HotStandbyValues, recorded: HotStandbyValues): HotStandbyDrift | undefined {
  const start = standbyStartValues(configured, recorded);
  const below = HOT_STANDBY_SETTINGS.filter(({ name }) => (running[name] ?? Infinity) < (recorded[name] ?? 0));
  if (below.length > 0) return { kind: "below-primary", settings: below.map(({ name }) => `${name} ${running[name]} (primary ${recorded[name]})`) };
  const above = HOT_STANDBY_SETTINGS.filter(({ name }) => raisedAtStart.has(name) && (running[name] ?? 0) > (start[name] ?? Infinity));
  if (above.length > 0) return { kind: "raised-no-longer-needed", settings: above.map(({ name }) => `${name} ${running[name]} (own ${configured[name]}, primary ${recorded[name]})`) };
  return undefined;
}
