/**
 * Planned switchover through Sentinel. Every replica but the candidate gets replica-priority 0, and Holdfast
 * waits until the Sentinel that will fail over has read that; writes on the old master are then paused
 * (`CLIENT PAUSE WRITE`, which also freezes its replication offset) until the candidate has processed
 * everything; `SENTINEL FAILOVER` promotes it; the old master is made a replica of the new one at once
 * (Sentinel alone would leave it a writable master for ~10 s); writes resume; priorities are restored.
 * The pause has a deadline, so a switchover cut short never holds writes forever.
 */
import { UnavailableError } from "../../errors/index.ts";
import type { Credentials } from "../types.ts";
import { DEFAULT_REPLICA_PRIORITY } from "./replica-config.ts";
import { probeRedisReplication } from "./replication-info.ts";
import { loopbackTarget, targetAddress, type RedisTarget } from "./resp.ts";
import { askSentinels, sentinelFailover, sentinelMasterPort, sentinelReplicas } from "./sentinel-probe.ts";
import { commandRedis } from "./session.ts";
import { caughtUp, chooseSwitchoverCandidate, instancesToExclude, sentinelCanPromote, sentinelSeesPriorities } from "./switchover-plan.ts";

/** The Sentinel-monitored component to switch over. */
export interface RedisSentinelGroup {
  /** The name the Sentinels monitor the master under. */
  masterName: string;
  sentinelPorts: readonly number[];
  /** Ports of every Redis instance of the component. */
  instancePorts: readonly number[];
  /** The host of each port above (instances and Sentinels) that is not on 127.0.0.1. */
  hosts?: ReadonlyMap<number, string> | undefined;
  /** The CA the servers' certificates are checked against; absent: they speak plain TCP. */
  caFile?: string | undefined;
}

/** Where the instance or Sentinel on `port` of `group` is reached (pure). */
function at(group: Pick<RedisSentinelGroup, "hosts" | "caFile">, port: number): RedisTarget {
  const host = group.hosts?.get(port);
  if (host === undefined) return loopbackTarget(port, group.caFile);
  return { host, port, caFile: group.caFile };
}

/** A switchover request. */
export interface RedisSwitchoverRequest extends RedisSentinelGroup {
  /** The instance to promote; undefined picks the in-sync replica with the most data. */
  candidatePort?: number | undefined;
  /** The priority the instances run with, restored afterwards (default 100). */
  replicaPriority?: number;
  /** Bound of the whole switchover (default 30 s; Sentinel may need 10 s to read new priorities). */
  timeoutMs?: number;
  /** The administrator of the Sentinels, when it is not the instances' one. */
  sentinelAdmin?: Credentials;
  /** Called once writes on the master are paused and the candidate has caught up, right before the failover. */
  onPromoting?: () => void;
}

/** What happened. */
export interface RedisSwitchoverResult {
  formerMasterPort: number;
  newMasterPort: number;
  /** How long writes on the former master were held: the write unavailability a client sees. */
  writesPausedMs: number;
  /** Did a majority of Sentinels name the new master before the deadline? */
  sentinelsAgree: boolean;
}

/** Default bound of a switchover. */
export const DEFAULT_SWITCHOVER_TIMEOUT_MS = 30_000;

const POLL_MS = 20;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Poll `check` until it returns a value or `deadline` passes (then undefined). */
async function pollUntil<T>(deadline: number, check: () => Promise<T | undefined>): Promise<T | undefined> {
  for (;;) {
    const value = await check();
    if (value !== undefined || Date.now() >= deadline) return value;
    await sleep(POLL_MS);
  }
}

/** The master a majority of Sentinels names, or UnavailableError. */
export async function agreedMasterPort(group: RedisSentinelGroup, admin: Credentials): Promise<number> {
  const answers = await askSentinels(group.sentinelPorts.map((port) => at(group, port)), admin, group.masterName);
  if (answers.agreedMasterPort === undefined) {
    throw new UnavailableError(`no majority of the ${group.sentinelPorts.length} Sentinels of ${group.masterName} names a master: start the Sentinels, then retry`);
  }
  return answers.agreedMasterPort;
}

/** Wait until every candidate has processed `masterOffset`, or the deadline; the ones that did. */
async function waitForCatchUp(step: Step, candidates: readonly number[], masterOffset: number, deadline: number): Promise<number[]> {
  let done: number[] = [];
  await pollUntil(deadline, async () => {
    const infos = await Promise.all(candidates.map((port) => probeRedisReplication(at(step, port), step.admin)));
    const offsets = new Map(candidates.map((port, i) => [port, infos[i]?.offset]));
    done = caughtUp(candidates, masterOffset, offsets);
    return done.length === candidates.length ? true : undefined;
  });
  return done;
}

/** Pause writes on the master and return its replication offset once nothing more can be written. */
async function pauseWrites(step: Step, masterPort: number, pauseMs: number): Promise<number> {
  await commandRedis(at(step, masterPort), step.admin, [["CLIENT", "PAUSE", String(pauseMs), "WRITE"]]);
  const info = await probeRedisReplication(at(step, masterPort), step.admin);
  if (info?.role !== "master") throw new UnavailableError(`the instance on port ${masterPort} is no longer a master: the Sentinels moved it; retry`);
  return info.offset;
}

async function setPriority(step: Step, ports: readonly number[], priority: number): Promise<void> {
  await Promise.all(ports.map((port) => commandRedis(at(step, port), step.admin, [["CONFIG", "SET", "replica-priority", String(priority)]])));
}

/** Wait until `sentinelPort` names a new master that reports itself master; its port. */
async function waitForPromotion(step: Step, former: number): Promise<number> {
  const { sentinel: sentinelPort, admin, sentinelAdmin, name, deadline } = step;
  const promoted = await pollUntil(deadline, async () => {
    const port = await sentinelMasterPort(at(step, sentinelPort), sentinelAdmin, name);
    if (port === undefined || port === former) return undefined;
    return (await probeRedisReplication(at(step, port), admin))?.role === "master" ? port : undefined;
  });
  if (promoted === undefined) throw new UnavailableError(`Sentinel did not promote a replica of ${name} in time: see the Sentinel logs; the old primary's write pause runs out by itself`);
  return promoted;
}

/** What a step of the switchover works with. */
interface Step {
  admin: Credentials;
  sentinelAdmin: Credentials;
  /** The name the Sentinels monitor the master under. */
  name: string;
  /** The Sentinel asked to fail over. */
  sentinel: number;
  deadline: number;
  hosts?: ReadonlyMap<number, string> | undefined;
  caFile?: string | undefined;
}

/** Wait until the Sentinel that will fail over has read the priorities that leave it only `candidate` to pick, and would pick it. */
async function waitForSentinelPriorities(step: Step, candidate: number, excluded: readonly number[]): Promise<void> {
  const { sentinel: sentinelPort, sentinelAdmin, name, deadline } = step;
  const seen = await pollUntil(deadline, async () => {
    const replicas = await sentinelReplicas(at(step, sentinelPort), sentinelAdmin, name).catch(() => []);
    const view = new Map(replicas.map((replica) => [replica.port, replica.priority]));
    const eligible = sentinelCanPromote(replicas.find((replica) => replica.port === candidate));
    return eligible && sentinelSeesPriorities(view, candidate, excluded) ? true : undefined;
  });
  if (seen === undefined) throw new UnavailableError(`Sentinel on port ${sentinelPort} did not see the candidate on port ${candidate} as a healthy replica with the new priorities in time: retry once it replicates`);
}

/** A Sentinel that answers and names `former` as the master: the one asked to fail over. */
async function chooseSentinel(group: RedisSentinelGroup, admin: Credentials, former: number): Promise<number> {
  const answers = await askSentinels(group.sentinelPorts.map((port) => at(group, port)), admin, group.masterName);
  const sentinel = answers.answers.find((answer) => answer.masterPort === former)?.sentinelPort;
  if (sentinel === undefined) throw new UnavailableError(`no Sentinel of ${group.masterName} answers: check that they run`);
  return sentinel;
}

/** The candidate, and the others kept from promotion, once the Sentinel that will fail over sees their priorities. */
async function prepare(request: RedisSwitchoverRequest, former: number, step: Step): Promise<{ candidate: number; excluded: number[] }> {
  const others = request.instancePorts.filter((port) => port !== former);
  const observed = await Promise.all(others.map(async (port) => ({ port, info: await probeRedisReplication(at(step, port), step.admin) })));
  const candidate = chooseSwitchoverCandidate(former, observed, request.candidatePort);
  const excluded = instancesToExclude(request.instancePorts, former, candidate);
  await setPriority(step, excluded, 0);
  await setPriority(step, [candidate], request.replicaPriority ?? DEFAULT_REPLICA_PRIORITY);
  // Sentinel picks from what it last read of each replica (every 10 s): wait until that includes the priorities.
  await waitForSentinelPriorities(step, candidate, excluded);
  return { candidate, excluded };
}

/** Pause writes on `former` and wait until `candidate` has everything; when the pause started. */
async function drain(step: Step, former: number, candidate: number): Promise<number> {
  const { deadline } = step;
  const pausedAt = Date.now();
  const masterOffset = await pauseWrites(step, former, deadline - pausedAt);
  const done = await waitForCatchUp(step, [candidate], masterOffset, Math.min(deadline, pausedAt + (deadline - pausedAt) / 3));
  if (done.length === 0) throw new UnavailableError(`the candidate on port ${candidate} did not catch up while writes were paused: retry when replication lag is lower`);
  return pausedAt;
}

/**
 * Switch the master of a Sentinel-monitored component over to `candidatePort`, or to the in-sync replica with
 * the most data. Resolves when the new master runs and the former one replicates from it.
 */
export async function switchoverRedis(request: RedisSwitchoverRequest, admin: Credentials): Promise<RedisSwitchoverResult> {
  const deadline = Date.now() + (request.timeoutMs ?? DEFAULT_SWITCHOVER_TIMEOUT_MS);
  const sentinelAdmin = request.sentinelAdmin ?? admin;
  const former = await agreedMasterPort(request, sentinelAdmin);
  const sentinel = await chooseSentinel(request, sentinelAdmin, former);
  const step: Step = { admin, sentinelAdmin, name: request.masterName, sentinel, deadline, hosts: request.hosts, caFile: request.caFile };
  let excluded: number[] = [];
  let paused = false;
  let failoverStarted = false;
  try {
    const prepared = await prepare(request, former, step);
    excluded = prepared.excluded;
    paused = true;
    const pausedAt = await drain(step, former, prepared.candidate);
    request.onPromoting?.();
    await sentinelFailover(at(step, sentinel), sentinelAdmin, request.masterName);
    failoverStarted = true;
    const promoted = await waitForPromotion(step, former);
    if (promoted !== prepared.candidate) throw new UnavailableError(`Sentinel promoted port ${promoted} instead of ${prepared.candidate}; check the replicas' priorities`);
    await commandRedis(at(step, former), admin, [["REPLICAOF", targetAddress(at(step, promoted)).host, String(promoted)], ["CONFIG", "REWRITE"], ["CLIENT", "UNPAUSE"]]);
    const writesPausedMs = Date.now() - pausedAt;
    const agreed = await pollUntil(deadline, async () => ((await askSentinels(request.sentinelPorts.map((port) => at(step, port)), sentinelAdmin, request.masterName)).agreedMasterPort === promoted ? true : undefined));
    return { formerMasterPort: former, newMasterPort: promoted, writesPausedMs, sentinelsAgree: agreed === true };
  } finally {
    // Once Sentinel promotes, a resumed old master would take writes that are lost: let its pause run out instead.
    if (paused && !failoverStarted) await commandRedis(at(step, former), admin, [["CLIENT", "UNPAUSE"]]).catch(() => undefined);
    await restorePriority(step, excluded, request.replicaPriority ?? DEFAULT_REPLICA_PRIORITY);
  }
}

/** Give `ports` their normal priority back and persist it (Sentinel saved the 0 with CONFIG REWRITE). Best effort. */
async function restorePriority(step: Step, ports: readonly number[], priority: number): Promise<void> {
  await Promise.all(ports.map((port) => commandRedis(at(step, port), step.admin, [["CONFIG", "SET", "replica-priority", String(priority)], ["CONFIG", "REWRITE"]]).catch(() => undefined)));
}
