/**
 * `npm run bench -- failover-multihost` (root): failover across hosts, Holdfast against Patroni on the same lab and
 * the same etcd (issue 12, done-when 4). A 3-host lab on network 2 (`hf-lab2-*`), a 3-instance PostgreSQL cluster
 * across the hosts, a writer on a host other than the primary's; then:
 *  - host loss: every process of the primary's host SIGKILLed at once → first write acknowledged by the new primary;
 *    the host restarted and its old primary rejoined as a replica before the next trial;
 *  - partition: the primary's host cut off → first write acknowledged on the majority side, and when the isolated
 *    primary last acknowledged one (a writer inside the isolated host); healed, rejoined.
 * The same trials on Patroni from Debian (installed with apt-get when missing), Holdfast's cluster deleted meanwhile.
 * BENCH_MULTIHOST_NETWORK the lab network (default 2), BENCH_MULTIHOST_HOME_PREFIX where its home goes (default
 * /tmp/hf-lab-bench, the process id appended), BENCH_MULTIHOST_TRIALS host-loss trials (default 5), BENCH_MULTIHOST_PARTITION_TRIALS partition trials (default 3),
 * BENCH_MULTIHOST_LEASE_SECONDS Holdfast's primary lease (default 5, the product's default), BENCH_MULTIHOST_SYSTEMS
 * (default "holdfast,patroni", run in that order), BENCH_MULTIHOST_KEEP_LOGS=1 copies every node's logs (server and
 * instances) to /tmp/hf-lab-bench-logs-PID before the lab goes. The lab is removed at the end, also on failure or Ctrl-C.
 */
import { cp, mkdir, rm } from "node:fs/promises";
import { loadavg } from "node:os";
import { Lab, labPrerequisites } from "../src/lab/index.ts";
import { HoldfastSystem } from "./multihost-holdfast.ts";
import { PATRONI_TIMING, PatroniSystem, patroniMissing, patroniVersion } from "./multihost-patroni.ts";
import { hostLossTrial, IdRanges, partitionTrial, runTrials, type FailoverSystem, type TrialResult } from "./multihost-trials.ts";
import { median } from "./stats.ts";

/** The lab network (1..9, default 2): its own names and subnet, so the bench can run beside the tests' labs. */
const NETWORK = Number(process.env["BENCH_MULTIHOST_NETWORK"] ?? 2);
const HOST_LOSS_TRIALS = Number(process.env["BENCH_MULTIHOST_TRIALS"] ?? 5);
const PARTITION_TRIALS = Number(process.env["BENCH_MULTIHOST_PARTITION_TRIALS"] ?? 3);
/** Holdfast's primary lease: the product's default unless asked otherwise (Patroni runs at its own fastest, ADR 0032). */
const LEASE_SECONDS = Number(process.env["BENCH_MULTIHOST_LEASE_SECONDS"] ?? 5);
/** Which systems, in this order. */
const SYSTEMS = (process.env["BENCH_MULTIHOST_SYSTEMS"] ?? "holdfast,patroni").split(",");
const KEEP_LOGS = process.env["BENCH_MULTIHOST_KEEP_LOGS"] === "1";

/** Every node's logs, copied out of the lab before it goes (BENCH_MULTIHOST_KEEP_LOGS=1). */
async function keepLogs(lab: Lab): Promise<void> {
  const kept = `/tmp/hf-lab-bench-logs-${process.pid}`;
  for (const host of lab.hosts) await cp(`${host.home}/logs`, `${kept}/${host.name}`, { recursive: true }).catch(() => undefined);
  console.log(`logs kept in ${kept}`);
}

/** One system's figures. */
interface Figures {
  hostLoss: TrialResult[];
  partition: TrialResult[];
}

/** A section that could not finish: said, and no figure from it. */
function sectionFailed(name: string, error: unknown): undefined {
  console.log(`${name}: the section stopped: ${error instanceof Error ? error.message : String(error)}`);
  return undefined;
}

function load(): string {
  return loadavg().map((value) => value.toFixed(2)).join(" ");
}

async function trials(lab: Lab, system: FailoverSystem): Promise<Figures> {
  const ids = new IdRanges();
  console.log(`\n${system.name}: host loss, ${HOST_LOSS_TRIALS} trials`);
  const hostLoss = await runTrials("host loss", HOST_LOSS_TRIALS, () => hostLossTrial(lab, system, ids), () => system.diagnosis());
  console.log(`${system.name}: partition, ${PARTITION_TRIALS} trials`);
  const partition = await runTrials("partition", PARTITION_TRIALS, () => partitionTrial(lab, system, ids), () => system.diagnosis());
  return { hostLoss, partition };
}

async function holdfastSection(lab: Lab, benchHome: string): Promise<Figures> {
  const holdfast = new HoldfastSystem(lab, benchHome, LEASE_SECONDS);
  console.log(`Holdfast: PostgreSQL example, 3 replicas, primary lease ${LEASE_SECONDS} s (holdfast.io/ha-lease-seconds), writer through the read-write endpoint of its own host`);
  await holdfast.create(LEASE_SECONDS);
  await holdfast.prepare();
  const figures = await trials(lab, holdfast);
  console.log("Holdfast: deleting the cluster; the nodes stay up, idle, during Patroni's trials");
  await holdfast.remove();
  return figures;
}

async function patroniSection(lab: Lab, benchHome: string): Promise<Figures | string> {
  const missing = patroniMissing();
  if (missing !== undefined) return missing;
  const patroni = new PatroniSystem(lab, benchHome);
  console.log(`\nPatroni: ${patroniVersion()}, PostgreSQL 15, etcd v3 on the lab's etcd (namespace /patroni-bench/, scope holdfast-bench), ${JSON.stringify(PATRONI_TIMING)}; writer with libpq multi-host target_session_attrs=read-write, its own host first`);
  try {
    await patroni.create();
    return await trials(lab, patroni);
  } finally {
    await patroni.stop();
  }
}

/** "median / worst (n)" of the trials that ended, and how many did not. */
function summary(results: readonly TrialResult[] | undefined): { text: string; median: number } {
  if (results === undefined) return { text: "not run", median: Number.NaN };
  const times = results.flatMap((r) => (r.ms === undefined ? [] : [r.ms]));
  const failed = results.length - times.length;
  const failedText = failed > 0 ? `, ${failed} did not end` : "";
  if (times.length === 0) return { text: `no figure (${results.length} trials${failedText})`, median: Number.NaN };
  return { text: `${median(times).toFixed(0)} / ${Math.max(...times).toFixed(0)} ms (n=${times.length}${failedText})`, median: median(times) };
}

function report(holdfast: Figures | undefined, patroni: Figures | string | undefined, loadAtStart: string): void {
  const other = typeof patroni === "object" ? patroni : undefined;
  console.log(`\nFailover across hosts: 3-host lab (network namespaces, one etcd member each), writer on another host\n`);
  console.log(`${"scenario".padEnd(11)} ${"Holdfast median / worst".padEnd(34)} ${"Patroni median / worst".padEnd(34)} ratio (Patroni / Holdfast medians)`);
  for (const [label, key] of [["host loss", "hostLoss"], ["partition", "partition"]] as const) {
    const ours = summary(holdfast?.[key]);
    const theirs = summary(other?.[key]);
    const ratio = Number.isFinite(ours.median) && Number.isFinite(theirs.median) ? `${(theirs.median / ours.median).toFixed(2)}x` : "n/a";
    console.log(`${label.padEnd(11)} ${ours.text.padEnd(34)} ${theirs.text.padEnd(34)} ${ratio}`);
  }
  if (typeof patroni === "string") console.log(`Patroni skipped: ${patroni}`);
  console.log(`\n${goalLine(summary(holdfast?.hostLoss).median, summary(other?.hostLoss).median)}`);
  console.log(`load average (1, 5, 15 min): at start ${loadAtStart}, at end ${load()}`);
}

/** The goal, from the host-loss medians (NaN when there is none: then it is not met). */
function goalLine(ours: number, theirs: number): string {
  const bound = LEASE_SECONDS * 1000 + 1000;
  const met = ours <= bound && ours < theirs;
  return `goal: Holdfast median host-loss ≤ lease duration + 1 s (${bound} ms) and ahead of Patroni → ${met ? "met" : "not met"}`;
}

export async function failoverMultihostBenchmark(): Promise<void> {
  const missing = labPrerequisites();
  if (missing.length > 0) {
    console.log(`failover-multihost skipped: the lab cannot run here; missing: ${missing.join("; ")}`);
    return;
  }
  const loadAtStart = load();
  const benchHome = `${process.env["BENCH_MULTIHOST_HOME_PREFIX"] ?? "/tmp/hf-lab-bench"}-${process.pid}`;
  await mkdir(benchHome, { mode: 0o755 });
  const labHome = `${benchHome}/lab`;
  // Once, whether the run ends, fails or is interrupted (both may ask).
  let removal: Promise<void> | undefined;
  const cleanup = (): Promise<void> =>
    (removal ??= (async () => {
      await Lab.down(labHome, (line) => console.log(`lab: ${line}`)).catch((error: unknown) => console.error(`lab down failed: ${String(error)}`));
      await rm(benchHome, { recursive: true, force: true });
    })());
  const interrupted = (signal: NodeJS.Signals): void => {
    console.error(`\n${signal}: removing the lab`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  let holdfast: Figures | undefined;
  let patroni: Figures | string | undefined;
  try {
    console.log(`failover-multihost: making a 3-host lab on network ${NETWORK} in ${labHome}`);
    const lab = await Lab.up({ hosts: 3, home: labHome, network: NETWORK, log: (line) => console.log(`lab: ${line}`) });
    for (const system of SYSTEMS) {
      if (system === "holdfast") holdfast = await holdfastSection(lab, benchHome).catch((error: unknown) => sectionFailed("Holdfast", error));
      if (system === "patroni") patroni = await patroniSection(lab, benchHome).catch((error: unknown) => sectionFailed("Patroni", error));
    }
    report(holdfast, patroni, loadAtStart);
    if (KEEP_LOGS) await keepLogs(lab);
  } finally {
    process.removeListener("SIGINT", interrupted);
    process.removeListener("SIGTERM", interrupted);
    await cleanup();
  }
}
