/**
 * Acting on a running MariaDB server for failover: fencing (stop it, killing it when it does not stop in time),
 * promotion once it applied what it received, repointing a replica, and where a cleanly stopped server's binlog ends.
 */
import { readFile, readlink, realpath } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ConflictError, UnavailableError } from "../../errors/index.ts";
import type { Credentials, HostAccess, InstanceContext, ReplicationCredentials, UpstreamAddress } from "../types.ts";
import { askMariadb, askMariadbRecords, runMariadbScript, type MariadbTarget } from "./client.ts";
import { mariadbPidPath } from "./config.ts";
import { formatGtidPosition, gtidContains, parseGtidPosition } from "./gtid.ts";
import { markRole } from "./role-marker.ts";
import { followSql, promoteSql } from "./replication-sql.ts";
import { keptDurability } from "./kept-durability.ts";
import { ER_MASTER_FATAL_ERROR_READING_BINLOG, parseSlaveStatus, probeMariadbReplication } from "./replication-status.ts";

const TERM_TIMEOUT_MS = 5000;
const KILL_TIMEOUT_MS = 10_000;
const POLL_MS = 20;
/** How long a promotion waits for the replica to apply what it received before it gives up (and is retried). */
const APPLY_TIMEOUT_MS = 60_000;
const APPLY_POLL_MS = 50;

/** The instance's own server on loopback, over TLS when it has TLS files (it then refuses plain TCP). */
export function localTarget(context: InstanceContext): MariadbTarget {
  return { port: context.port, trust: context.tls === undefined ? undefined : { caFile: context.tls.caFile } };
}

/** The pid of the running mariadbd of `context`: its pid file names a live process working in its data directory. */
async function runningServer(context: InstanceContext): Promise<number | undefined> {
  const text = await readFile(mariadbPidPath(context), "utf8").catch(() => undefined);
  const pid = Number(text?.trim());
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => undefined);
  if (cwd === undefined || cwd !== (await realpath(context.dataDirectory).catch(() => context.dataDirectory))) return undefined;
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  return /\)\s+Z/u.test(stat.slice(stat.lastIndexOf(")"))) ? undefined : pid;
}

/** Send `signal` (as the service user) and wait up to `timeoutMs` for the server to be gone; is it gone? */
async function signalAndWait(context: InstanceContext, host: HostAccess, pid: number, signal: "TERM" | "KILL", timeoutMs: number): Promise<boolean> {
  await host.run({ command: "kill", args: [`-${signal}`, String(pid)] }, { cwd: context.runDirectory }).catch(() => undefined);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await runningServer(context)) === undefined) return true;
    await sleep(POLL_MS);
  }
  return (await runningServer(context)) === undefined;
}

/**
 * Stop the server so it cannot accept writes: SIGTERM (a clean shutdown: connections killed, the binlog state written),
 * SIGKILL when it has not stopped within TERM_TIMEOUT_MS or is suspended. Resolves once it is gone.
 */
export async function fenceMariadb(context: InstanceContext, host: HostAccess): Promise<"stopped" | "killed" | "not-running"> {
  const pid = await runningServer(context);
  if (pid === undefined) return "not-running";
  if (await signalAndWait(context, host, pid, "TERM", TERM_TIMEOUT_MS)) return "stopped";
  if (await signalAndWait(context, host, pid, "KILL", KILL_TIMEOUT_MS)) return "killed";
  throw new ConflictError(`${context.instanceName} still runs after it was killed: end its mariadbd before promoting another instance`);
}

/**
 * Where the binlog of the stopped server on `context` ends: the `<log-bin>.state` file a clean shutdown writes (a
 * server that crashed or was killed leaves its pid file, and its state file, if any, is older than its binlog).
 */
export async function finalMariadbPosition(context: InstanceContext): Promise<string | undefined> {
  if ((await readFile(mariadbPidPath(context), "utf8").catch(() => undefined)) !== undefined) return undefined;
  const state = await readFile(join(context.dataDirectory, "mariadb-bin.state"), "utf8").catch(() => undefined);
  const position = parseGtidPosition(state);
  return position === undefined || position.size === 0 ? undefined : formatGtidPosition(position);
}

/** Has the replica applied everything it received: its applied position holds the received one, or its SQL thread read all its relay log? */
async function appliedAll(target: MariadbTarget, admin: Credentials): Promise<boolean> {
  const [record] = await askMariadbRecords(target, admin, "SHOW SLAVE STATUS");
  const slave = parseSlaveStatus(record === undefined ? [] : [record]);
  if (slave === undefined || slave.sqlRunning !== "Yes") return true;
  if ((record?.Slave_SQL_Running_State ?? "").includes("read all relay log")) return true;
  const applied = parseGtidPosition((await askMariadb(target, admin, "SELECT @@GLOBAL.gtid_slave_pos"))[0]?.[0] ?? "");
  const received = parseGtidPosition(slave.ioPos);
  return applied !== undefined && received !== undefined && gtidContains(applied, received);
}

/**
 * Stop receiving, then wait until the replica applied what it received (a transaction received only in part, its
 * primary having died, is never applied: the SQL thread then reads all the relay log). A SQL thread that stopped
 * (an error) has nothing more to apply.
 */
async function applyReceived(target: MariadbTarget, admin: Credentials): Promise<void> {
  await askMariadb(target, admin, "STOP SLAVE IO_THREAD");
  const deadline = Date.now() + APPLY_TIMEOUT_MS;
  while (!(await appliedAll(target, admin))) {
    if (Date.now() > deadline) throw new UnavailableError(`the replica did not apply what it received within ${APPLY_TIMEOUT_MS / 1000} s; it is promoted once it has`);
    await sleep(APPLY_POLL_MS);
  }
}

/** Promote the running replica on `context`: apply what it received, drop its replication settings, accept writes. */
export async function promoteMariadb(context: InstanceContext, admin: Credentials, host: HostAccess): Promise<void> {
  const target = localTarget(context);
  await applyReceived(target, admin);
  await askMariadb(target, admin, promoteSql(await keptDurability(context)));
  await markRole(context, "primary", host);
  const readOnly = (await askMariadb(target, admin, "SELECT @@GLOBAL.read_only"))[0]?.[0];
  if (readOnly !== "0") throw new UnavailableError(`${context.instanceName} still refuses writes after its promotion`);
}

/** Point the running replica on `context` at `upstream` (the password on the client's stdin). */
export async function followMariadb(context: InstanceContext, upstream: UpstreamAddress, credentials: ReplicationCredentials): Promise<void> {
  const script = followSql({ upstream, account: credentials.replication, caFile: context.tls?.caFile });
  await runMariadbScript(localTarget(context), credentials.admin, script);
}

/** Did the replica's primary refuse it because it lacks what the replica holds (error 1236)? */
export async function mariadbDiverged(port: number, admin: Credentials, trust?: { caFile: string }): Promise<boolean> {
  const status = await probeMariadbReplication(port, admin, trust);
  return status?.slave?.lastIoErrno === ER_MASTER_FATAL_ERROR_READING_BINLOG;
}
