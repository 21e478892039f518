/**
 * The trials of `failover-multihost`, the same for every system under test: a host lost at once (`killHost`) and a
 * host cut off (`cutHost`), each timed from the kill or cut to the first write acknowledged by another server,
 * through a client on a surviving host. A trial that does not end says so, with a diagnosis: never a number.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Lab, LabHostPlan } from "../src/lab/index.ts";
import { LabWriter, type WriterTarget } from "./lab-writer.ts";

/** A replicated PostgreSQL, one instance per lab host, as the trials see it. */
export interface FailoverSystem {
  readonly name: string;
  /** The lease (Holdfast) or leader key TTL (Patroni), in ms. */
  readonly leaseMs: number;
  /** Wait until one primary and two streaming replicas, one per host; the primary's host. Throws after `timeoutMs`. */
  settled(timeoutMs: number): Promise<LabHostPlan>;
  /** Where a writer inside `from` connects. */
  target(from: LabHostPlan): Promise<WriterTarget>;
  /** After `lab.restartHost(host)`: start what the lab does not start itself. */
  restarted(host: LabHostPlan): Promise<void>;
  /** The host of the controllers' leader, when the system has one. */
  controllersLeader(): Promise<string | undefined>;
  /** What the system says about itself, for a trial that did not end. */
  diagnosis(): Promise<string>;
}

/** One trial: the time, or why there is none. */
export interface TrialResult {
  ms: number | undefined;
  detail: string;
  /** The system did not settle again: the next trials would measure a broken cluster. */
  stop?: boolean;
}

const WARM_WRITES = 20;
const RESUME_TIMEOUT_MS = 60_000;
const SETTLE_TIMEOUT_MS = 300_000;

/** Ids of rows: each writer gets a range of its own (the table's primary key). */
export class IdRanges {
  #next = 1;
  take(): number {
    const first = this.#next;
    this.#next += 10_000_000;
    return first;
  }
}

/** A host other than `host`: the next one round the lab. */
function otherHost(lab: Lab, host: LabHostPlan): LabHostPlan {
  return lab.host((host.index % lab.hosts.length) + 1);
}

/** Where the controllers' leader was, when the system has one. */
function leaderText(leader: string | undefined, primary: LabHostPlan, done: "killed" | "cut"): string {
  if (leader === undefined) return "";
  return `; controllers' leader ${leader}${leader === primary.name ? ` (on the ${done} host)` : " (elsewhere)"}`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

async function warmed(writers: readonly LabWriter[]): Promise<string | undefined> {
  for (const writer of writers) {
    if (!(await writer.waitFor(WARM_WRITES, 60_000))) return `no writes before the trial: ${writer.describe()}`;
  }
  return undefined;
}

/** Bring `host` back and wait for the old primary to rejoin as a streaming replica; how long that took. */
async function rejoin(lab: Lab, system: FailoverSystem, host: LabHostPlan, restart: boolean): Promise<{ text: string; stop: boolean }> {
  const started = performance.now();
  try {
    if (restart) {
      await lab.restartHost(host);
      await system.restarted(host);
    } else {
      await lab.healHost(host);
    }
    const primary = await system.settled(SETTLE_TIMEOUT_MS);
    const took = `${seconds(performance.now() - started)} after ${restart ? "its restart" : "the heal"}`;
    const text = primary.name === host.name ? `${host.name} is primary again ${took} (no other server had taken over)` : `${host.name} rejoined as a replica ${took}`;
    return { text, stop: false };
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return { text: `NOT REJOINED (${why})\n${await system.diagnosis()}`, stop: true };
  }
}

/** The trial's result with how the host came back. */
async function withRejoin(result: TrialResult, back: Promise<{ text: string; stop: boolean }>): Promise<TrialResult> {
  const { text, stop } = await back;
  return { ms: result.ms, detail: `${result.detail}; ${text}`, stop };
}

/** Kill every process of the primary's host; time to the first write acknowledged by the new primary. */
export async function hostLossTrial(lab: Lab, system: FailoverSystem, ids: IdRanges): Promise<TrialResult> {
  const primary = await system.settled(SETTLE_TIMEOUT_MS);
  const leader = await system.controllersLeader();
  const from = otherHost(lab, primary);
  const writer = LabWriter.start(from, await system.target(from), ids.take());
  let result: TrialResult;
  try {
    const notWarm = await warmed([writer]);
    if (notWarm !== undefined) return { ms: undefined, detail: `${notWarm}\n${await system.diagnosis()}` };
    const killedServer = writer.lastServer();
    const killedAt = performance.now();
    await lab.killHost(primary);
    const resumed = await writer.firstAfter(killedAt, killedServer, RESUME_TIMEOUT_MS);
    const where = leaderText(leader, primary, "killed");
    result = resumed === undefined
      ? { ms: undefined, detail: `DID NOT END: no write acknowledged by another server within ${RESUME_TIMEOUT_MS / 1000} s of killing ${primary.name}${where}; ${writer.describe()}\n${await system.diagnosis()}` }
      : { ms: resumed.at - killedAt, detail: `killed ${primary.name} (the primary's host), writer in ${from.name}${where}` };
  } finally {
    await writer.stop();
  }
  return withRejoin(result, rejoin(lab, system, primary, true));
}

/** Cut the primary's host off; time to the first write acknowledged on the majority side; when the isolated side last acknowledged one. */
export async function partitionTrial(lab: Lab, system: FailoverSystem, ids: IdRanges): Promise<TrialResult> {
  const primary = await system.settled(SETTLE_TIMEOUT_MS);
  const where = leaderText(await system.controllersLeader(), primary, "cut");
  const from = otherHost(lab, primary);
  const majority = LabWriter.start(from, await system.target(from), ids.take());
  const isolated = LabWriter.start(primary, await system.target(primary), ids.take());
  let result: TrialResult;
  try {
    const notWarm = await warmed([majority, isolated]);
    if (notWarm !== undefined) return { ms: undefined, detail: `${notWarm}\n${await system.diagnosis()}` };
    const isolatedServer = isolated.lastServer();
    const cutAt = performance.now();
    await lab.cutHost(primary);
    const resumed = await majority.firstAfter(cutAt, isolatedServer, RESUME_TIMEOUT_MS);
    // Give the isolated side time to show when it stopped: the lease, and some more.
    await sleep(Math.max(0, cutAt + system.leaseMs + 3_000 - performance.now()));
    const last = isolated.lastBy(isolatedServer);
    const after = last === undefined ? -1 : last.at - cutAt;
    const lastText = after < 0 ? "never after the cut" : `${after.toFixed(0)} ms after the cut (${after < system.leaseMs ? "before" : "AFTER"} the lease could expire)`;
    const isolatedLine = `the isolated primary last acknowledged a write (writer inside ${primary.name}) ${lastText}, lease ${system.leaseMs} ms`;
    result = resumed === undefined
      ? { ms: undefined, detail: `DID NOT END: no write acknowledged on the majority side within ${RESUME_TIMEOUT_MS / 1000} s of cutting ${primary.name}${where}; ${isolatedLine}; ${majority.describe()}\n${await system.diagnosis()}` }
      : { ms: resumed.at - cutAt, detail: `cut ${primary.name} (the primary's host), writer in ${from.name}${where}; ${isolatedLine}` };
  } finally {
    await majority.stop();
    await isolated.stop();
  }
  return withRejoin(result, rejoin(lab, system, primary, false));
}

/**
 * `count` trials of `trial`, each printed as it ends. A trial that throws (the system never settled again) ends the
 * series: what follows would measure a broken cluster.
 */
export async function runTrials(label: string, count: number, trial: () => Promise<TrialResult>, diagnosis: () => Promise<string>): Promise<TrialResult[]> {
  const results: TrialResult[] = [];
  while (results.length < count) {
    const result = await trial().catch(async (error: unknown): Promise<TrialResult> => {
      const why = error instanceof Error ? error.message : String(error);
      return { ms: undefined, detail: `FAILED: ${why}\n${await diagnosis().catch((e: unknown) => String(e))}`, stop: true };
    });
    results.push(result);
    console.log(`  ${label} ${results.length}/${count}: ${result.ms === undefined ? "no figure" : `${result.ms.toFixed(0)} ms`}: ${result.detail}`);
    if (result.stop === true) {
      console.log(`  no more ${label} trials: the cluster did not settle again`);
      break;
    }
  }
  return results;
}
