/**
 * Audit queries on a large log, through the real server: a log of BENCH_AUDIT_QUERY_MB (default 1024) is written with
 * the AuditLog (one event per 100 ms of simulated time, ending now) before `holdfast server` starts on it; then
 * `GET auditevents` for the newest 1000 events, the last 10 minutes, and one user's events of the last hour, timed from the
 * client, with the server's resident memory (VmRSS, and its peak VmHWM) from /proc. For scale: one full forward read
 * of the same file (what every query cost before it read from the end).
 */
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { Agent, request } from "undici";
import { homePaths } from "../src/config/index.ts";
import { AuditLog, readAuditRecords, type AuditEventInput } from "../src/security/index.ts";
import { TestServer } from "../test/helpers/harness.ts";
import { benchEvent } from "./audit.ts";
import { median } from "./stats.ts";

const TARGET_MB = Number(process.env["BENCH_AUDIT_QUERY_MB"] ?? 1024);
const STEP_MS = 100;
const IN_FLIGHT = 1024;
const RUNS = 5;
const AUDIT_PATH = "/apis/audit.holdfast.io/v1alpha1/auditevents";

export async function auditQueryBenchmark(): Promise<void> {
  let built = { events: 0, bytes: 0, seconds: 0 };
  const server = await TestServer.start({ beforeStart: async (home) => {
      built = await buildLog(home);
    }, });
  try {
    const pid = (JSON.parse(await readFile(join(server.home, "server.json"), "utf8")) as { pid: number }).pid;
    const agent = new Agent({ connect: { ca: await readFile(join(server.home, "tls", "ca.crt"), "utf8") } });
    const token = await server.token();
    console.log(`\naudit-query: ${(built.bytes / 2 ** 20).toFixed(0)} MiB log, ${built.events.toLocaleString("en-US")} events (written in ${built.seconds.toFixed(0)} s)`);
    const before = await memory(pid);
    console.log(`server after start:`.padEnd(44), `VmRSS ${before.rss} MiB, VmHWM ${before.hwm} MiB`);
    for (const [name, query] of [
      ["newest 1000 events", "limit=1000"],
      ["last 10 minutes", "since=10m&limit=100000"],
      ["one user, last hour", "since=1h&user=user-3&limit=100000"],
      ["one user, newest 100", "user=user-3&limit=100"],
    ] as const) {
      const figures = await timeQuery(server.url, agent, token, query);
      const after = await memory(pid);
      console.log(`${name}:`.padEnd(44), `median ${figures.ms.toFixed(0)} ms, ${figures.items} items; VmRSS ${after.rss} MiB, VmHWM ${after.hwm} MiB`);
    }
    await agent.close();
    const full = await fullRead(homePaths(server.home).auditDir);
    console.log(`for scale: one full read of the log (in-process):`.padEnd(44), `${full.ms.toFixed(0)} ms for ${full.records.toLocaleString("en-US")} records`);
    console.log("every query is answered by reading the log backwards from its end; memory does not grow with the log\n");
  } finally {
    await server.destroy();
  }
}

async function buildLog(home: string): Promise<{ events: number; bytes: number; seconds: number }> {
  const paths = homePaths(home);
  const log = await AuditLog.open({ directory: paths.auditDir, signingKeyFile: paths.auditSigningKey, hmacKeyFile: paths.auditHmacKey, checkpointEvery: 10_000 });
  const file = join(paths.auditDir, "audit.log");
  const started = performance.now();
  const perEvent = Buffer.byteLength(JSON.stringify(event(0, 0)));
  const total = Math.ceil((TARGET_MB * 2 ** 20) / (perEvent + 200));
  const firstAt = Date.now() - total * STEP_MS;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      const i = next++;
      await log.append(event(i, firstAt + i * STEP_MS));
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  await log.close();
  return { events: total, bytes: (await stat(file)).size, seconds: (performance.now() - started) / 1000 };
}

/** A benchmark event received and recorded at `at` (simulated time). */
function event(i: number, at: number): AuditEventInput {
  const time = new Date(at).toISOString();
  return { ...benchEvent(i), requestReceivedTimestamp: time, stageTimestamp: time };
}

async function timeQuery(url: string, agent: Agent, token: string, query: string): Promise<{ ms: number; items: number }> {
  const times: number[] = [];
  let items = 0;
  for (let run = 0; run < RUNS; run += 1) {
    const started = performance.now();
    const response = await request(`${url}${AUDIT_PATH}?${query}`, { dispatcher: agent, headers: { authorization: `Bearer ${token}` } });
    const body = (await response.body.json()) as { items?: unknown[] };
    times.push(performance.now() - started);
    if (response.statusCode !== 200) throw new Error(`GET auditevents?${query} answered ${response.statusCode}`);
    items = body.items?.length ?? 0;
  }
  return { ms: median(times), items };
}

/** Resident memory of `pid` in MiB: now, and the peak since it started. */
async function memory(pid: number): Promise<{ rss: number; hwm: number }> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const mib = (match: RegExpExecArray | null): number => Math.round(Number(match?.[1] ?? Number.NaN) / 1024);
  return { rss: mib(/^VmRSS:\s+(\d+) kB/m.exec(status)), hwm: mib(/^VmHWM:\s+(\d+) kB/m.exec(status)) };
}

async function fullRead(directory: string): Promise<{ ms: number; records: number }> {
  const started = performance.now();
  let records = 0;
  for await (const _record of readAuditRecords({ directory })) records += 1;
  return { ms: performance.now() - started, records };
}
