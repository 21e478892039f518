/**
 * API latency and throughput: an authenticated, authorized, audited `get` of a namespace against the same server's
 * unauthenticated /healthz (the floor: HTTPS, routing and a response, nothing else), in one run.
 *  1. paced: RATE requests/s for SECONDS each, latency p50/p99 from the client;
 *  2. saturated: CONCURRENCY requests in flight for SECONDS, requests/s, and the durable audit events/s it produced.
 *  3. what observability costs: the paced audited `get` on servers that differ only in their switches (VARIANTS),
 *     run in the same process, in rounds whose order is shuffled (the same shuffles every run), each p99 against the
 *     first variant's (all off) with a bootstrap interval of the ratio; the servers not being measured are stopped
 *     (SIGSTOP) during a round. `BENCH_API_ROWS=all` adds rows for each switch alone and for a scrape every second.
 * `BENCH_API_PART=3` runs part 3 alone. The servers listen on `BENCH_API_HOST` (default 127.0.0.1), on ports from
 * `BENCH_API_PORT` up (default: ports the kernel picks).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { PerformanceObserver } from "node:perf_hooks";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { setTimeout as sleep } from "node:timers/promises";
import { Agent, request } from "undici";
import { TestServer } from "../test/helpers/harness.ts";
import { bootstrapRatioInterval, median, percentile, seededRandom } from "./stats.ts";

const RATE = Number(process.env["BENCH_API_RATE"] ?? 200);
const SECONDS = Number(process.env["BENCH_API_SECONDS"] ?? 10);
const CONCURRENCY = Number(process.env["BENCH_API_CONCURRENCY"] ?? 16);
const GET_PATH = "/api/v1/namespaces/default";
const HOST = process.env["BENCH_API_HOST"] ?? "127.0.0.1";
/** First port of the servers (each next server the next port); 0: the kernel picks. */
const FIRST_PORT = Number(process.env["BENCH_API_PORT"] ?? 0);
let serversStarted = 0;

interface Target {
  name: string;
  path: string;
  token: string | undefined;
}

/**
 * How often a Prometheus reads /metrics in the goal's row: the interval `holdfast monitoring prometheus-config` writes
 * unless told otherwise (`--scrape-interval`, default 15 s).
 */
const DEPLOYED_SCRAPE_MS = 15_000;

/**
 * Server configurations compared in part 3, each a row; the first is the baseline (everything off), the second the
 * same configuration again (what the machine's noise alone gives), the third the goal's (metrics and detections on,
 * scraped as deployed). `BENCH_API_ROWS=all` adds the diagnostic rows: each switch alone, and a scrape every second.
 */
const VARIANTS: { name: string; serverArgs: string[]; scrapeEveryMs: number; diagnostic?: true }[] = [
  { name: "metrics and detections off", serverArgs: ["--disable-metrics", "--disable-detections"], scrapeEveryMs: 0 },
  { name: "the same, a second server (control)", serverArgs: ["--disable-metrics", "--disable-detections"], scrapeEveryMs: 0 },
  { name: "both on (scraped every 15 s)", serverArgs: [], scrapeEveryMs: DEPLOYED_SCRAPE_MS },
  { name: "both on (scraped every second)", serverArgs: [], scrapeEveryMs: 1000, diagnostic: true },
  { name: "metrics on (scraped every second)", serverArgs: ["--disable-detections"], scrapeEveryMs: 1000, diagnostic: true },
  { name: "detections on", serverArgs: ["--disable-metrics"], scrapeEveryMs: 0, diagnostic: true },
];
const ALL_ROWS = process.env["BENCH_API_ROWS"] === "all";
/**
 * Rounds per row, in a shuffled order: a p99 is about 1 % of the samples, so one stall of the machine inside one
 * row's window moves that row alone; more, shorter rounds spread such stalls over the rows, and the bootstrap over
 * rounds (below) says how far they can still move a ratio.
 */
const ROUNDS = Number(process.env["BENCH_API_ROUNDS"] ?? 48);
/**
 * Seconds of paced requests per row in part 3, over all its rounds: 96 s at 200/s is 19,200 samples, so the p99 is
 * the 192nd slowest answer rather than a handful of them.
 */
const VARIANT_SECONDS = Number(process.env["BENCH_API_VARIANT_SECONDS"] ?? 96);
/** After a server resumes, its timers that fell due while it was stopped run at once: wait them out before measuring. */
const SETTLE_MS = 500;
/** USER_HZ, the unit of the CPU times in /proc/PID/stat: 100 on every Linux architecture Node runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

export async function apiBenchmark(): Promise<void> {
  if (process.env["BENCH_API_PART"] !== "3") await requestPathBenchmark();
  await observabilityBenchmark();
}

/** A server of this bench, on BENCH_API_HOST (whose certificate names it) and the next port of BENCH_API_PORT. */
function startServer(serverArgs: string[] = []): Promise<TestServer> {
  const listenPort = FIRST_PORT === 0 ? 0 : FIRST_PORT + serversStarted++;
  const initArgs = HOST === "127.0.0.1" ? [] : ["--advertise", HOST];
  return TestServer.start({ serverArgs, initArgs, listenHost: HOST, listenPort });
}

async function requestPathBenchmark(): Promise<void> {
  const server = await startServer();
  const agent = new Agent({ connect: { ca: await readFile(join(server.home, "tls", "ca.crt"), "utf8") }, connections: CONCURRENCY, pipelining: 1 });
  try {
    const token = await server.token();
    const targets: Target[] = [
      { name: "GET /healthz (no auth)", path: "/healthz", token: undefined },
      { name: `GET ${GET_PATH} (authn+authz+audit)`, path: GET_PATH, token },
    ];
    for (const target of targets) await paced(server, agent, target, 50, 2); // warm up connections and JIT
    console.log(`API: ${RATE} requests/s for ${SECONDS} s each, then ${CONCURRENCY} in flight for ${SECONDS} s (server and client share 2 cores)\n`);
    const latency = new Map<string, number[]>();
    for (const target of targets) latency.set(target.name, await paced(server, agent, target, RATE, SECONDS));
    const throughput = new Map<string, { rps: number; auditRate: number }>();
    for (const target of targets) throughput.set(target.name, await saturated(server, agent, target));
    report(targets, latency, throughput);
  } finally {
    await agent.close();
    await server.destroy();
  }
}

async function once(server: TestServer, agent: Agent, target: Target): Promise<number> {
  const started = performance.now();
  const response = await request(`${server.url}${target.path}`, { dispatcher: agent, headers: target.token === undefined ? {} : { authorization: `Bearer ${target.token}` } });
  await response.body.text();
  if (response.statusCode !== 200) throw new Error(`${target.path} answered ${response.statusCode}`);
  return performance.now() - started;
}

/** Open loop: a request every 1/rate s whatever the answers do, so slow answers show up as latency. */
async function paced(server: TestServer, agent: Agent, target: Target, rate: number, seconds: number): Promise<number[]> {
  const total = rate * seconds;
  const started = performance.now();
  const pending: Promise<number>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    pending.push(once(server, agent, target));
  }
  return Promise.all(pending);
}

async function saturated(server: TestServer, agent: Agent, target: Target): Promise<{ rps: number; auditRate: number }> {
  const auditBefore = await auditLines(server);
  const deadline = performance.now() + SECONDS * 1000;
  let done = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      await once(server, agent, target);
      done++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const elapsed = (performance.now() - started) / 1000;
  return { rps: done / elapsed, auditRate: ((await auditLines(server)) - auditBefore) / elapsed };
}

/** Lines in the audit log: every one was fdatasync'ed before its request was answered. */
async function auditLines(server: TestServer): Promise<number> {
  const text = await readFile(join(server.home, "audit", "audit.log"), "utf8");
  return text.split("\n").length - 1;
}

function report(targets: Target[], latency: Map<string, number[]>, throughput: Map<string, { rps: number; auditRate: number }>): void {
  const rows = targets.map((t) => {
    const samples = latency.get(t.name) ?? [];
    const sat = throughput.get(t.name);
    return { name: t.name, p50: median(samples), p99: percentile(samples, 99), max: Math.max(...samples), rps: sat?.rps ?? 0, auditRate: sat?.auditRate ?? 0 };
  });
  for (const row of rows) {
    console.log(`${row.name.padEnd(52)} p50 ${row.p50.toFixed(2)} ms  p99 ${row.p99.toFixed(2)} ms  max ${row.max.toFixed(1)} ms  |  ${row.rps.toFixed(0)} req/s saturated`);
  }
  const [health, get] = rows;
  if (health && get) {
    console.log(`\nratio (audited get / healthz): p50 ${(get.p50 / health.p50).toFixed(2)}x, p99 ${(get.p99 / health.p99).toFixed(2)}x, throughput ${(get.rps / health.rps).toFixed(2)}x`);
    console.log(`audit events written durably while saturated: ${get.auditRate.toFixed(0)}/s (each fdatasync'ed before its answer; see also npm run bench -- audit)`);
    console.log(`goal: p99 < 10 ms at ${RATE} req/s → ${get.p99 < 10 ? "met" : "NOT met"} (${get.p99.toFixed(2)} ms)`);
  }
}

interface Variant {
  name: string;
  server: TestServer;
  agent: Agent;
  token: string;
  /** How often /metrics is read while the row is measured (ms of its measured time; 0: never). */
  scrapeEveryMs: number;
  /** The row's measured time so far (ms, over its rounds), and when in it the next read of /metrics falls due. */
  measuredMs: number;
  nextScrapeMs: number;
  /** The latencies of each round (ms): pooled for the p99, drawn again by the bootstrap. */
  roundSamples: number[][];
  /** How long each read of /metrics took, seen from the client. */
  scrapes: number[];
  /** The server process's id, whose CPU time (user + system, all threads) is read around each round. */
  pid: number;
  /** CPU time the server spent during its rounds (ms), and the requests answered in them. */
  cpuMs: number;
  requests: number;
  /** When its rounds ran (performance.now()), to tell which of the client's own GC pauses fell in them. */
  rounds: { start: number; end: number }[];
}

/**
 * The client's own garbage-collection pauses (start and duration, performance.now() ms). The client shares the
 * process between rows: a pause delays every answer in flight, and garbage made in one row (a scraped row's 30 KB
 * answers) would be collected in the next, so a full collection runs before each round and the pauses in each row are
 * reported beside its p99.
 */
const clientPauses: { start: number; duration: number }[] = [];
const gcObserver = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) clientPauses.push({ start: entry.startTime, duration: entry.duration });
});

/** `gc()` of this process, exposed at run time (the bench is started without --expose-gc). */
function collector(): () => void {
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
}

/**
 * The order of the rows in each round: a shuffle of them, the same every run (a fixed seed). Alternating one order
 * and its reverse put each row always after the same neighbours (the detections row after a scraped row in every
 * round); shuffled, each row follows each other row about as often, and drift over the run still hits every row alike.
 */
function roundOrders<T>(items: readonly T[], rounds: number, seed = 0x9e3779b9): T[][] {
  const next = seededRandom(seed);
  return Array.from({ length: rounds }, () => {
    const order = [...items];
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [order[i], order[j]] = [order[j] as T, order[i] as T];
    }
    return order;
  });
}

/** Part 3: the audited get, paced, on one server per variant, in shuffled rounds so drift hits every row alike. */
async function observabilityBenchmark(): Promise<void> {
  const variants: Variant[] = [];
  const gc = collector();
  gcObserver.observe({ entryTypes: ["gc"] });
  try {
    for (const { name, serverArgs, scrapeEveryMs } of VARIANTS.filter((row) => ALL_ROWS || row.diagnostic !== true)) {
      const server = await startServer(serverArgs);
      const agent = new Agent({ connect: { ca: await readFile(join(server.home, "tls", "ca.crt"), "utf8") }, connections: CONCURRENCY, pipelining: 1 });
      const token = await server.token();
      variants.push({ name, server, agent, token, scrapeEveryMs, measuredMs: 0, nextScrapeMs: 0, roundSamples: [], scrapes: [], pid: serverPid(server), cpuMs: 0, requests: 0, rounds: [] });
    }
    for (const v of variants) await paced(v.server, v.agent, target(v), 50, 2);
    const seconds = Math.max(1, Math.round(VARIANT_SECONDS / ROUNDS));
    console.log(`\nobservability on the request path: GET ${GET_PATH} (authn+authz+audit) at ${RATE} requests/s, ${ROUNDS} rounds of ${seconds} s per row (${RATE * seconds * ROUNDS} samples per row)`);
    for (const order of roundOrders(variants, ROUNDS)) {
      for (const v of order) {
        await aloneOnTheMachine(v, variants);
        gc();
        await measureRound(v, seconds);
      }
    }
    reportVariants(variants);
  } finally {
    gcObserver.disconnect();
    for (const v of variants) process.kill(v.pid, "SIGCONT");
    for (const v of variants) {
      await v.agent.close();
      await v.server.destroy();
    }
  }
}

/** One round of `v`: paced requests (and scrapes), its server's CPU time, when it ran. */
async function measureRound(v: Variant, seconds: number): Promise<void> {
  const cpuBefore = await processCpuMs(v.pid);
  const start = performance.now();
  const samples = await scraped(v, () => paced(v.server, v.agent, target(v), RATE, seconds));
  const end = performance.now();
  v.rounds.push({ start, end });
  v.measuredMs += end - start;
  v.cpuMs += (await processCpuMs(v.pid)) - cpuBefore;
  v.requests += samples.length;
  v.roundSamples.push(samples);
}

/** The client's GC pauses that began during `v`'s rounds: how many, their sum and the longest (ms). */
function clientPausesIn(v: Variant): { count: number; total: number; max: number } {
  const pauses = clientPauses.filter((p) => v.rounds.some((r) => p.start >= r.start && p.start < r.end));
  return { count: pauses.length, total: pauses.reduce((sum, p) => sum + p.duration, 0), max: Math.max(0, ...pauses.map((p) => p.duration)) };
}

/**
 * Stop (SIGSTOP) every other variant's server and resume this one, then let it settle: each row is measured as if its
 * server ran alone on the machine, as a control plane does. Idle servers are not idle on the disk: their periodic
 * work (store checkpoints, audit and lease writes) shares the file system's journal with the measured server's
 * fdatasync of every audit event, which put stalls of 30–200 ms into whichever row happened to be measured then.
 */
async function aloneOnTheMachine(v: Variant, variants: Variant[]): Promise<void> {
  for (const other of variants) if (other !== v) process.kill(other.pid, "SIGSTOP");
  process.kill(v.pid, "SIGCONT");
  await sleep(SETTLE_MS);
}

/** The server's pid: the Node process itself (bin/holdfast execs it). */
function serverPid(server: TestServer): number {
  if (server.pid === undefined) throw new Error("the server process is not running");
  return server.pid;
}

/**
 * CPU time (user + system, every thread: the event loop, the thread pool's fsyncs, GC) the process has used, in ms,
 * from /proc/PID/stat (fields 14 and 15, in clock ticks of 10 ms). Unlike a latency it hardly depends on how loaded
 * the machine is, so rows can be compared on a busy machine.
 */
async function processCpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
}

function target(v: Variant): Target {
  return { name: v.name, path: GET_PATH, token: v.token };
}

/**
 * Run `work` while a Prometheus-like client reads /metrics every `scrapeEveryMs` of the row's measured time (when the
 * row keeps metrics): the clock runs only while the row is measured, so a 15 s interval gives the same number of reads
 * per request whatever the rounds' length.
 */
async function scraped<T>(v: Variant, work: () => Promise<T>): Promise<T> {
  if (v.scrapeEveryMs === 0) return work();
  const roundStart = performance.now();
  const stop = new AbortController();
  const scraper = (async () => {
    for (;;) {
      const wait = v.nextScrapeMs - v.measuredMs - (performance.now() - roundStart);
      if (wait > 0) await sleep(wait, undefined, { signal: stop.signal }).catch(() => undefined);
      if (stop.signal.aborted) return;
      v.nextScrapeMs += v.scrapeEveryMs;
      v.scrapes.push(await once(v.server, v.agent, { name: "scrape", path: "/metrics", token: v.token }));
    }
  })();
  try {
    return await work();
  } finally {
    stop.abort();
    await scraper;
  }
}

function baseCpuPerRequest(base: Variant): number {
  return base.cpuMs / base.requests;
}

function reportVariants(variants: Variant[]): void {
  const base = variants[0];
  if (!base) return;
  const baseP99 = percentile(base.roundSamples.flat(), 99);
  console.log(`(in brackets: the 95% interval of each ratio, from a bootstrap over the rows' rounds)`);
  for (const v of variants) {
    const samples = v.roundSamples.flat();
    const p99 = percentile(samples, 99);
    console.log(`${v.name.padEnd(40)} p50 ${median(samples).toFixed(2)} ms  p99 ${p99.toFixed(2)} ms  max ${Math.max(...samples).toFixed(1)} ms  |  ${v === base ? "baseline" : verdict(v, base, p99 / baseP99, p99)}`);
    const cpu = `server CPU ${((v.cpuMs / v.requests) * 1000).toFixed(0)} ms per 1,000 requests (${(v.cpuMs / baseCpuPerRequest(base) / v.requests).toFixed(2)}x)`;
    const roundP99s = v.roundSamples.map((round) => percentile(round, 99));
    const spread = `${cpu}; p99 per round: min ${Math.min(...roundP99s).toFixed(2)}, median ${median(roundP99s).toFixed(2)}, max ${Math.max(...roundP99s).toFixed(2)} ms`;
    const scrapes = v.scrapes.length === 0 ? "" : `; /metrics read in p50 ${median(v.scrapes).toFixed(2)} ms, max ${Math.max(...v.scrapes).toFixed(1)} ms (${v.scrapes.length} reads)`;
    const pauses = clientPausesIn(v);
    console.log(`${"".padEnd(40)} ${spread}${scrapes}; the client's GC: ${pauses.count} pauses, ${pauses.total.toFixed(0)} ms in all, longest ${pauses.max.toFixed(1)} ms`);
  }
}

/** A row's ratio to the baseline, its bootstrap interval, and whether it meets the goal (p99 < 10 ms, within 1.2×). */
function verdict(v: Variant, base: Variant, ratio: number, p99: number): string {
  const [low, high] = bootstrapRatioInterval(v.roundSamples, base.roundSamples, 99);
  return `${ratio.toFixed(2)}x [${low.toFixed(2)}–${high.toFixed(2)}] of ${base.name} → ${p99 < 10 && ratio <= 1.2 ? "met" : "NOT met"} (goal: p99 < 10 ms and within 1.2x)`;
}
