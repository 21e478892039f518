/**
 * sentinel.conf as Holdfast writes it. Sentinel keeps its state in this file and rewrites it while it runs
 * (its id, epochs, the current master, the replicas and Sentinels it discovered), so Holdfast regenerates only
 * what it owns and carries that state over: a restarted Sentinel must keep its id, must not vote twice in an
 * epoch, and must keep following the master elected while it was down.
 */
import { isIP } from "node:net";
import { join } from "node:path";
import { InvalidError, type FieldCause } from "../../errors/index.ts";
import { LOOPBACK } from "../address.ts";
import type { InstanceContext, InstanceLayout } from "../types.ts";
import { aclUserLine, listenLines, quote } from "./config.ts";
import { SENTINEL_PEER_PERMISSIONS, checkPlaintextPassword, type RedisReplicationAccounts } from "./replication-accounts.ts";

/** How long an instance may not answer before a Sentinel thinks it down, and how long a failover may take. */
export interface SentinelTimings {
  /** `down-after-milliseconds`: no valid PING reply for this long marks the instance subjectively down. */
  downAfterMs: number;
  /** `failover-timeout`: bound of one failover; a failed one is retried after twice this. */
  failoverTimeoutMs: number;
  /** `parallel-syncs`: replicas resynchronised with a new master at the same time. */
  parallelSyncs: number;
}

/** Defaults for processes on one host: no network in between, so a short down-after is safe. */
export const DEFAULT_SENTINEL_TIMINGS: SentinelTimings = { downAfterMs: 2000, failoverTimeoutMs: 10_000, parallelSyncs: 1 };

/** What every Sentinel of a component is told. */
export interface SentinelSettings extends SentinelTimings {
  /** The name the master is monitored under, e.g. `<cluster>-<component>`. */
  masterName: string;
  /** Port of the master when this Sentinel has no state of its own yet. */
  initialMasterPort: number;
  /** Ports of every Redis instance of the component: state naming other ports is dropped. */
  instancePorts: readonly number[];
  /** Ports of every Sentinel of the component, this one included. */
  sentinelPorts: readonly number[];
  /** Sentinels that must agree the master is down before a failover; see `sentinelQuorum`. */
  quorum: number;
  /** The address of each port above (instances and Sentinels) that is not on 127.0.0.1. */
  hosts?: ReadonlyMap<number, string> | undefined;
}

/** What a Sentinel's own config needs of its instance: its layout, the address it listens on and announces, its TLS files. */
export type SentinelLayout = InstanceLayout & Pick<InstanceContext, "address" | "tls">;

/** The address of the instance or Sentinel on `port` (pure). */
function hostOf(settings: Pick<SentinelSettings, "hosts">, port: number): string {
  return settings.hosts?.get(port) ?? LOOPBACK;
}

/** A majority of `sentinels`: with it, no two partitions can both fail over. */
export function sentinelQuorum(sentinels: number): number {
  return Math.floor(sentinels / 2) + 1;
}

/** The state Sentinel wrote into its config file. */
export interface SentinelState {
  myid: string | undefined;
  currentEpoch: number | undefined;
  masterPort: number | undefined;
  configEpoch: number | undefined;
  leaderEpoch: number | undefined;
  knownReplicas: number[];
  knownSentinels: { port: number; id: string }[];
}

/** The config file, in the run directory (which must stay writable: Sentinel replaces the file when it saves). */
export function sentinelConfPath(layout: InstanceLayout): string {
  return join(layout.runDirectory, "sentinel.conf");
}

/** Sentinel's pid file: the same file as a Redis server's (`redis.pid`), so one lookup re-adopts either. */
export function sentinelPidPath(layout: InstanceLayout): string {
  return join(layout.runDirectory, "redis.pid");
}

const NAME = /^[A-Za-z0-9._-]{1,64}$/;
const RUN_ID = /^[0-9a-f]{40}$/;

function unquote(token: string): string {
  return token.replace(/^"(.*)"$/, "$1");
}

function port(token: string | undefined): number | undefined {
  if (token === undefined || !/^[0-9]{1,5}$/.test(token)) return undefined;
  const value = Number(token);
  return value >= 1 && value <= 65535 ? value : undefined;
}

function epoch(token: string | undefined): number | undefined {
  return token !== undefined && /^[0-9]{1,18}$/.test(token) ? Number(token) : undefined;
}

/** Apply one `sentinel ...` line about the master `name` to `state`; lines about other masters are ignored. */
function readMasterLine(state: SentinelState, words: readonly string[], name: string): void {
  const [directive, master, ...rest] = words;
  if (master !== name) return;
  if (directive === "monitor") state.masterPort = port(rest[1]);
  else if (directive === "config-epoch") state.configEpoch = epoch(rest[0]);
  else if (directive === "leader-epoch") state.leaderEpoch = epoch(rest[0]);
  else if (directive === "known-replica") {
    const replica = port(rest[1]);
    if (replica !== undefined) state.knownReplicas.push(replica);
  } else if (directive === "known-sentinel") {
    const sentinel = port(rest[1]);
    const id = rest[2] ?? "";
    if (sentinel !== undefined && RUN_ID.test(id)) state.knownSentinels.push({ port: sentinel, id });
  }
}

/** Sentinel's state for master `name` in the text of a sentinel.conf it rewrote (pure; unknown lines are ignored). */
export function parseSentinelState(text: string, name: string): SentinelState {
  const state: SentinelState = { myid: undefined, currentEpoch: undefined, masterPort: undefined, configEpoch: undefined, leaderEpoch: undefined, knownReplicas: [], knownSentinels: [] };
  for (const line of text.split("\n")) {
    const words = line.trim().split(/\s+/).map(unquote);
    if (words[0] !== "sentinel") continue;
    if (words[1] === "myid" && RUN_ID.test(words[2] ?? "")) state.myid = words[2];
    else if (words[1] === "current-epoch") state.currentEpoch = epoch(words[2]);
    else readMasterLine(state, words.slice(1), name);
  }
  return state;
}

function placementCauses(layout: InstanceLayout, settings: SentinelSettings): FieldCause[] {
  const causes: FieldCause[] = [];
  if (!NAME.test(settings.masterName)) causes.push({ field: "masterName", message: "must be 1-64 letters, digits, '.', '_' or '-'" });
  if (!settings.instancePorts.includes(settings.initialMasterPort)) causes.push({ field: "initialMasterPort", message: "must be the port of one of the instances" });
  if (!settings.sentinelPorts.includes(layout.port)) causes.push({ field: "sentinelPorts", message: "must include this Sentinel's port" });
  if (!Number.isInteger(settings.quorum) || settings.quorum < 1 || settings.quorum > settings.sentinelPorts.length) {
    causes.push({ field: "quorum", message: `must be from 1 to the number of Sentinels (${settings.sentinelPorts.length})` });
  }
  return causes;
}

function timingCauses(settings: SentinelTimings): FieldCause[] {
  const causes: FieldCause[] = [];
  if (!Number.isInteger(settings.downAfterMs) || settings.downAfterMs < 100) causes.push({ field: "downAfterMs", message: "must be an integer of at least 100" });
  if (!Number.isInteger(settings.failoverTimeoutMs) || settings.failoverTimeoutMs < settings.downAfterMs) {
    causes.push({ field: "failoverTimeoutMs", message: "must be an integer no smaller than downAfterMs" });
  }
  if (!Number.isInteger(settings.parallelSyncs) || settings.parallelSyncs < 1) causes.push({ field: "parallelSyncs", message: "must be an integer of at least 1" });
  return causes;
}

/** Addresses go into the file as they are: IP addresses only (Sentinel resolves no names here). */
function addressCauses(layout: SentinelLayout, settings: SentinelSettings): FieldCause[] {
  const addresses = [...(settings.hosts?.values() ?? []), ...(layout.address === undefined ? [] : [layout.address])];
  return addresses.some((address) => isIP(address) === 0) ? [{ field: "hosts", message: "must be IP addresses" }] : [];
}

function checkSettings(layout: SentinelLayout, settings: SentinelSettings): void {
  const causes = [...placementCauses(layout, settings), ...addressCauses(layout, settings), ...timingCauses(settings)];
  if (causes.length > 0) {
    throw new InvalidError(`invalid Sentinel settings for ${layout.instanceName}: ${causes.map((c) => `${c.field} ${c.message}`).join("; ")}`, { causes });
  }
}

/** Sentinel's id and epochs, when it saved them. */
function globalStateLines(state: SentinelState): string[] {
  const lines: string[] = [];
  if (state.myid !== undefined) lines.push(`sentinel myid ${state.myid}`);
  if (state.currentEpoch !== undefined) lines.push(`sentinel current-epoch ${state.currentEpoch}`);
  return lines;
}

/**
 * Every instance of the component but the master, as a known replica: the saved ones first, in their order. Sentinel
 * learns replicas only from the master's INFO, every 10 s; a Sentinel started after that INFO that has not asked again
 * when the master dies knows no replica, and if it is elected leader it aborts the failover (`no-good-slave`) and
 * retries only after twice the failover timeout. Told them from the start, every Sentinel watches every replica.
 */
function knownReplicaLines(settings: SentinelSettings, saved: readonly number[], masterPort: number): string[] {
  const replicas = new Set([...saved, ...settings.instancePorts].filter((port) => port !== masterPort && settings.instancePorts.includes(port)));
  return [...replicas].map((replica) => `sentinel known-replica ${settings.masterName} ${hostOf(settings, replica)} ${replica}`);
}

/** What Sentinel saved about the master, restricted to the component's own ports, with every replica known. */
function masterStateLines(layout: InstanceLayout, settings: SentinelSettings, state: SentinelState | undefined, masterPort: number): string[] {
  const name = settings.masterName;
  const lines: string[] = [];
  if (state?.configEpoch !== undefined) lines.push(`sentinel config-epoch ${name} ${state.configEpoch}`);
  if (state?.leaderEpoch !== undefined) lines.push(`sentinel leader-epoch ${name} ${state.leaderEpoch}`);
  lines.push(...knownReplicaLines(settings, state?.knownReplicas ?? [], masterPort));
  for (const peer of state?.knownSentinels ?? []) {
    if (peer.port !== layout.port && settings.sentinelPorts.includes(peer.port)) lines.push(`sentinel known-sentinel ${name} ${hostOf(settings, peer.port)} ${peer.port} ${peer.id}`);
  }
  return lines;
}

/** The master to monitor (the saved one when it is still an instance of the component) and the state lines to carry over. */
function stateLines(layout: InstanceLayout, settings: SentinelSettings, state: SentinelState | undefined): { masterPort: number; global: string[]; master: string[] } {
  const saved = state?.masterPort;
  const masterPort = saved !== undefined && settings.instancePorts.includes(saved) ? saved : settings.initialMasterPort;
  return { masterPort, global: state === undefined ? [] : globalStateLines(state), master: masterStateLines(layout, settings, state, masterPort) };
}

/**
 * The content of sentinel.conf for the Sentinel on `layout` (pure). The administrator's password is held only
 * as its SHA-256; the Sentinel account's password is in plaintext (`auth-pass`, `sentinel-pass`), as Sentinel
 * needs it to log in to the instances and to the other Sentinels.
 */
export function renderSentinelConf(layout: SentinelLayout, settings: SentinelSettings, accounts: RedisReplicationAccounts, state: SentinelState | undefined): string {
  checkSettings(layout, settings);
  checkPlaintextPassword(accounts.sentinel, "accounts.sentinel.password");
  const name = settings.masterName;
  const sentinelUser = accounts.sentinel.username;
  const carried = stateLines(layout, settings, state);
  return [
    "# Managed by Holdfast: rewritten before every start, keeping the state Sentinel saved here (id, epochs, master, known instances).",
    // With TLS files, TLS only; `tls-replication yes` makes Sentinel use TLS towards the instances and the other Sentinels.
    ...listenLines(layout),
    "protected-mode yes",
    "daemonize no",
    'logfile ""',
    `dir ${quote(layout.dataDirectory)}`,
    `pidfile ${quote(sentinelPidPath(layout))}`,
    aclUserLine(accounts.admin),
    aclUserLine(accounts.sentinel, SENTINEL_PEER_PERMISSIONS),
    `sentinel sentinel-user ${sentinelUser}`,
    `sentinel sentinel-pass ${quote(accounts.sentinel.password)}`,
    "sentinel resolve-hostnames no",
    "sentinel announce-hostnames no",
    `sentinel announce-ip ${layout.address ?? LOOPBACK}`,
    `sentinel announce-port ${layout.port}`,
    "sentinel deny-scripts-reconfig yes",
    ...carried.global,
    `sentinel monitor ${name} ${hostOf(settings, carried.masterPort)} ${carried.masterPort} ${settings.quorum}`,
    `sentinel auth-user ${name} ${sentinelUser}`,
    `sentinel auth-pass ${name} ${quote(accounts.sentinel.password)}`,
    `sentinel down-after-milliseconds ${name} ${settings.downAfterMs}`,
    `sentinel failover-timeout ${name} ${settings.failoverTimeoutMs}`,
    `sentinel parallel-syncs ${name} ${settings.parallelSyncs}`,
    ...carried.master,
    "",
  ].join("\n");
}
