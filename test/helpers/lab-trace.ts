/**
 * The timeline of one failover on a lab (`HOLDFAST_TEST_FAILOVER_TRACE=1` in the multihost tests): what each surviving
 * node logged (its server log: the controllers' election, endpoint routes, lease and store warnings), the events
 * recorded in the cluster's namespace (failover started, promoted, failed over) and the writer's failed connections and
 * writes, each with its time after the kill, in one list ordered by time. Wall-clock times: every process of the lab
 * runs on this machine's clock.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Lab, LabHostPlan } from "../../src/lab/index.ts";
import type { LabWriter } from "./lab-pg.ts";

/** Whether the multihost tests print a timeline of each host-loss trial. */
export function failoverTraceWanted(): boolean {
  return process.env["HOLDFAST_TEST_FAILOVER_TRACE"] === "1";
}

interface Entry {
  at: number;
  what: string;
}

export interface TraceWindow {
  /** The kill (wall-clock ms): times are printed relative to it. */
  from: number;
  /** The end of the window (wall-clock ms). */
  to: number;
}

interface LogLine {
  time?: number;
  level?: number;
  msg?: string;
  [field: string]: unknown;
}

/** Fields of a log line worth a glance in a timeline (no secrets are logged; long values are cut). */
function logFields(line: LogLine): string {
  const { time: _time, level: _level, msg: _msg, pid: _pid, hostname: _hostname, ...rest } = line;
  const text = JSON.stringify(rest);
  return text === "{}" ? "" : ` ${text.length > 240 ? `${text.slice(0, 240)}…` : text}`;
}

async function logEntries(host: LabHostPlan, window: TraceWindow): Promise<Entry[]> {
  const text = await readFile(join(host.home, "logs", "server.log"), "utf8").catch(() => "");
  const entries: Entry[] = [];
  for (const raw of text.split("\n")) {
    if (!raw.startsWith("{")) continue;
    const line = JSON.parse(raw) as LogLine;
    if (line.time === undefined || line.time < window.from - 2000 || line.time > window.to) continue;
    entries.push({ at: line.time, what: `${host.name} log: ${line.msg ?? ""}${logFields(line)}` });
  }
  return entries;
}

interface EventItem {
  firstTimestamp: string;
  lastTimestamp?: string;
  reason: string;
  message: string;
  involvedObject: { kind: string; name: string };
}

async function eventEntries(lab: Lab, via: LabHostPlan, namespace: string, window: TraceWindow): Promise<Entry[]> {
  const result = await lab.holdfast(via, ["get", "events", "-n", namespace, "-o", "json"], { timeoutMs: 30_000 });
  if (result.code !== 0) return [{ at: window.to, what: `events: not read (${result.stderr.trim()})` }];
  const items = (JSON.parse(result.stdout) as { items: EventItem[] }).items;
  return items.flatMap((item) => {
    const at = Date.parse(item.lastTimestamp ?? item.firstTimestamp);
    return at < window.from - 2000 || at > window.to ? [] : [{ at, what: `event ${item.involvedObject.kind}/${item.involvedObject.name} ${item.reason}: ${item.message}` }];
  });
}

/** The writer's failures in the window, runs of the same message folded into one line. */
function writerEntries(writer: LabWriter, window: TraceWindow): Entry[] {
  const entries: Entry[] = [];
  let run: { at: number; last: number; message: string; count: number } | undefined;
  const close = (): void => {
    if (run !== undefined) entries.push({ at: run.at, what: `writer: ${run.count} × "${run.message}" (until +${(run.last - window.from).toFixed(0)} ms)` });
  };
  for (const failure of writer.failures.filter((f) => f.at >= window.from - 500 && f.at <= window.to)) {
    if (run?.message === failure.failure) {
      run.count++;
      run.last = failure.at;
      continue;
    }
    close();
    run = { at: failure.at, last: failure.at, message: failure.failure, count: 1 };
  }
  close();
  const last = writer.acknowledged.findLast((a) => a.at <= window.from);
  const first = writer.acknowledged.find((a) => a.at > window.from);
  if (last !== undefined) entries.push({ at: last.at, what: `writer: last write acknowledged before the kill, by ${last.server}` });
  if (first !== undefined) entries.push({ at: first.at, what: `writer: first write acknowledged after the kill, by ${first.server}` });
  return entries;
}

/** The timeline's lines, "+1234 ms  what", ordered by time. */
export async function failoverTimeline(lab: Lab, survivors: readonly LabHostPlan[], namespace: string, writer: LabWriter, window: TraceWindow): Promise<string[]> {
  const via = survivors[0];
  if (via === undefined) return [];
  const entries = [
    ...(await Promise.all(survivors.map((host) => logEntries(host, window)))).flat(),
    ...(await eventEntries(lab, via, namespace, window)),
    ...writerEntries(writer, window),
  ].sort((a, b) => a.at - b.at);
  return entries.map((entry) => `${`${entry.at >= window.from ? "+" : ""}${(entry.at - window.from).toFixed(0)}`.padStart(7)} ms  ${entry.what}`);
}
