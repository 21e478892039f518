/** What `pg_controldata` says about a stopped data directory: how it was shut down and where its WAL ends. */
import { join } from "node:path";
import { UnavailableError, errorMessage } from "../../errors/index.ts";
import type { CommandSpec, HostAccess, InstanceContext } from "../types.ts";
import { compareLsn } from "./lsn.ts";

/** The facts Holdfast reads from pg_control. */
export interface ControlData {
  /** `shut down`, `shut down in recovery`, `in production`, `in crash recovery`... */
  state: string;
  /** Start of the latest checkpoint record: after a clean shutdown, the last record the server wrote. */
  checkpointLocation: string;
  timeline: number;
}

/** `pg_controldata -D dir`, in the C locale so its labels read the same everywhere. */
export function controlDataCommand(context: InstanceContext): CommandSpec {
  return { command: join(context.version.binDir, "pg_controldata"), args: ["-D", context.dataDirectory], env: { LC_ALL: "C", LANG: "C" } };
}

/** Every `label: value` line of pg_controldata's output. */
export function controlDataFields(output: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of output.split("\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) fields.set(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  return fields;
}

/** The fields of pg_controldata's output Holdfast needs; undefined when one is missing. */
export function parseControlData(output: string): ControlData | undefined {
  const fields = controlDataFields(output);
  const state = fields.get("Database cluster state");
  const checkpointLocation = fields.get("Latest checkpoint location");
  const timeline = Number(fields.get("Latest checkpoint's TimeLineID"));
  if (state === undefined || checkpointLocation === undefined || !Number.isInteger(timeline)) return undefined;
  return { state, checkpointLocation, timeline };
}

/** pg_controldata's output for the data directory of `context` (stopped or running: it only reads pg_control). */
export async function controlDataOutput(context: InstanceContext, host: HostAccess): Promise<string> {
  try {
    return (await host.run(controlDataCommand(context), { cwd: context.runDirectory, timeoutMs: 30_000 })).stdout;
  } catch (error) {
    throw new UnavailableError(`cannot read pg_control of ${context.instanceName}: ${errorMessage(error)}`, { cause: error });
  }
}

/** Read pg_control of the (stopped) data directory of `context`. */
export async function readControlData(context: InstanceContext, host: HostAccess): Promise<ControlData> {
  const output = await controlDataOutput(context, host);
  const parsed = parseControlData(output);
  if (parsed === undefined) throw new UnavailableError(`pg_controldata of ${context.instanceName} printed no cluster state or checkpoint location`);
  return parsed;
}

/**
 * Has a standby that received WAL up to `received` everything of a former primary described by `control`?
 * Only a clean shutdown tells where the WAL ends (its shutdown checkpoint is the last record, and the standby
 * holds it once it has received past that record's start); after a crash nobody knows, so the answer is no.
 */
export function receivedEverything(control: ControlData, received: string | undefined): boolean {
  if (control.state !== "shut down") return false;
  return compareLsn(received, control.checkpointLocation) > 0;
}
