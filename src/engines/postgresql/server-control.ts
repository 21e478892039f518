/**
 * Controlling a running PostgreSQL server through its data directory (pg_ctl, run as the service
 * user): promote a standby, stop in a chosen mode, reload; and telling whether it runs at all.
 */
import { readFile, readlink, realpath } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type pg from "pg";
import { ConflictError, UnavailableError, errorMessage } from "../../errors/index.ts";
import type { CommandSpec, Credentials, HostAccess, InstanceContext, InstanceLayout } from "../types.ts";
import { endOrphanedProcesses } from "./orphaned-processes.ts";
import { withSession } from "./session.ts";

/** PostgreSQL's shutdown modes: wait for clients, roll them back and checkpoint, or quit at once (crash recovery next start). */
export type StopMode = "smart" | "fast" | "immediate";

/** Whole seconds for pg_ctl's -t, at least 1. */
function seconds(timeoutMs: number): string {
  return String(Math.max(1, Math.ceil(timeoutMs / 1000)));
}

/** `pg_ctl promote -w`: ends recovery and waits until the server accepts writes. */
export function promoteCommand(context: InstanceContext, timeoutMs: number): CommandSpec {
  return { command: join(context.version.binDir, "pg_ctl"), args: ["promote", "-D", context.dataDirectory, "-w", "-t", seconds(timeoutMs)] };
}

/** `pg_ctl stop -m mode -w`: stops the postmaster whose pid is in the data directory. */
export function stopCommand(context: InstanceContext, mode: StopMode, timeoutMs: number): CommandSpec {
  return { command: join(context.version.binDir, "pg_ctl"), args: ["stop", "-D", context.dataDirectory, "-m", mode, "-w", "-t", seconds(timeoutMs)] };
}

/** The postmaster's pid and data directory from `postmaster.pid`'s first two lines. */
export function parsePostmasterPid(content: string): { pid: number; dataDirectory: string } | undefined {
  const [pidLine, dataDirectory] = content.split("\n");
  const pid = Number(pidLine);
  if (!Number.isInteger(pid) || pid <= 0 || dataDirectory === undefined || dataDirectory === "") return undefined;
  return { pid, dataDirectory };
}

/** The one-letter state in a /proc/<pid>/stat line (`R`, `S`, `Z`...), after the command name in parentheses. */
export function processState(statLine: string): string | undefined {
  return /\)\s+(\S)/.exec(statLine.slice(statLine.lastIndexOf(")")))?.[1];
}

/**
 * Is `pid` a live process working in `dataDirectory`? A zombie or a process elsewhere (the pid reused)
 * is not the postmaster; where /proc cannot be read, a live pid is assumed to be it (the safe answer for fencing).
 */
async function postmasterAlive(pid: number, dataDirectory: string): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return error instanceof Error && "code" in error && error.code === "EPERM";
  }
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => undefined);
  if (stat !== undefined && processState(stat) === "Z") return false;
  const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => undefined);
  if (cwd === undefined) return true;
  return cwd === (await realpath(dataDirectory).catch(() => dataDirectory));
}

/** The pid of the postmaster running on this data directory, from postmaster.pid; undefined for a stale file (after kill -9). */
async function runningPostmaster(layout: InstanceLayout): Promise<number | undefined> {
  let content: string;
  try {
    content = await readFile(join(layout.dataDirectory, "postmaster.pid"), "utf8");
  } catch {
    return undefined;
  }
  const parsed = parsePostmasterPid(content);
  return parsed !== undefined && (await postmasterAlive(parsed.pid, parsed.dataDirectory)) ? parsed.pid : undefined;
}

/** Does a postmaster run on this data directory? Reads postmaster.pid; a stale file (after kill -9) counts as not running. */
export async function isPostgresqlRunning(layout: InstanceLayout): Promise<boolean> {
  return (await runningPostmaster(layout)) !== undefined;
}

/** Is `pid` stopped by a signal (SIGSTOP) or a tracer? Such a postmaster acts on no shutdown request until it is resumed. */
async function isSuspended(pid: number): Promise<boolean> {
  const state = processState(await readFile(`/proc/${pid}/stat`, "utf8").catch(() => ""));
  return state === "T" || state === "t";
}

/** How often a promotion asked over SQL is checked: well beneath pg_ctl's and pg_promote's own 100 ms polling. */
const PROMOTION_POLL_MS = 5;

/**
 * Promote the standby on `context`, waiting until it accepts writes: asked over SQL (`pg_promote(wait => false)`, no
 * process to spawn) and checked every 5 ms in the same session; `pg_ctl promote -w` when no session can be opened.
 * Safe to repeat: a server that is already a primary (a promotion that finished before a restart) counts as promoted.
 */
export async function promotePostgresql(context: InstanceContext, admin: Credentials, host: HostAccess, timeoutMs = 60_000): Promise<void> {
  const promoted = await promoteAndPoll(context.port, admin, timeoutMs).catch((error: unknown) => {
    // No session (the server does not take connections yet): pg_ctl needs none.
    if (error instanceof UnavailableError) return undefined;
    throw error;
  });
  if (promoted === true) return;
  if (promoted === false) throw new UnavailableError(`promoting ${context.instanceName} did not finish within ${timeoutMs / 1000} s; check its log`);
  try {
    await host.run(promoteCommand(context, timeoutMs), { cwd: context.runDirectory, timeoutMs: timeoutMs + 5000 });
  } catch (error) {
    const primary = await withSession(context.port, admin, async (client) => !(await inRecovery(client))).catch(() => false);
    if (primary) return;
    throw new UnavailableError(`promoting ${context.instanceName} failed: ${errorMessage(error)}; check that it runs as a standby`, { cause: error });
  }
}

/** Ask for the promotion and wait for its end in one session: true when promoted, false when it did not end in time. */
async function promoteAndPoll(port: number, admin: Credentials, timeoutMs: number): Promise<boolean> {
  return withSession(port, admin, async (client) => {
    if (!(await inRecovery(client))) return true;
    await client.query("SELECT pg_catalog.pg_promote(false)");
    const deadline = performance.now() + timeoutMs;
    while (await inRecovery(client)) {
      if (performance.now() > deadline) return false;
      await sleep(PROMOTION_POLL_MS);
    }
    return true;
  });
}

async function inRecovery(client: pg.Client): Promise<boolean> {
  return (await client.query<{ r: boolean }>("SELECT pg_catalog.pg_is_in_recovery() AS r")).rows[0]?.r !== false;
}

/** How long a checkpoint before a switchover may take: a busy server's dirty pages, written at full speed. */
const CHECKPOINT_TIMEOUT_MS = 120_000;

/**
 * `CHECKPOINT` on the running server on `port`: the fast shutdown of a switchover then writes only what changed
 * since (Patroni and CloudNativePG do the same before they stop a primary on purpose).
 */
export async function checkpointPostgresql(port: number, admin: Credentials): Promise<void> {
  await withSession(port, admin, (client) => client.query("CHECKPOINT"), { queryTimeoutMs: CHECKPOINT_TIMEOUT_MS });
}

/** Promote over SQL (`pg_promote(wait => true)`): no process to spawn; false when it did not finish within the timeout. */
export async function promoteOverSql(port: number, admin: Credentials, timeoutMs = 60_000): Promise<boolean> {
  const secs = Math.max(1, Math.ceil(timeoutMs / 1000));
  return withSession(port, admin, async (client) => (await client.query<{ done: boolean }>("SELECT pg_catalog.pg_promote(true, $1) AS done", [secs])).rows[0]?.done === true, { queryTimeoutMs: timeoutMs + 5000 });
}

/** Stop the server on `context` in `mode`; nothing to do when it does not run. */
export async function stopPostgresql(context: InstanceContext, host: HostAccess, mode: StopMode, timeoutMs = 30_000): Promise<void> {
  if (!(await isPostgresqlRunning(context))) return;
  try {
    await host.run(stopCommand(context, mode, timeoutMs), { cwd: context.runDirectory, timeoutMs: timeoutMs + 5000 });
  } catch (error) {
    if (!(await isPostgresqlRunning(context))) return;
    throw new UnavailableError(`stopping ${context.instanceName} (${mode}) failed: ${errorMessage(error)}`, { cause: error });
  }
}

/**
 * Fence an instance so it cannot accept writes: a fast stop (clients rolled back, clean checkpoint), and if that
 * does not finish in `fastTimeoutMs`, an immediate one. A postmaster that ignores both, or is suspended (SIGSTOP:
 * it would act on neither before it is resumed, while its backends go on committing), is killed with everything
 * it started; it runs crash recovery on its next start. Resolves once no postmaster runs and nothing a dead one
 * left behind (kill -9) can commit or send WAL any more.
 */
export async function fencePostgresql(context: InstanceContext, host: HostAccess, fastTimeoutMs = 5000): Promise<"fast" | "immediate" | "killed" | "not-running"> {
  const pid = await runningPostmaster(context);
  if (pid === undefined) {
    await endOrphanedProcesses(context, host);
    return "not-running";
  }
  const stopped = (await isSuspended(pid)) ? undefined : await shutDown(context, host, fastTimeoutMs);
  if (stopped !== undefined) return stopped;
  // The postmaster's processes all work in its data directory: this ends it and every backend and WAL sender.
  await endOrphanedProcesses(context, host);
  if (await isPostgresqlRunning(context)) throw new ConflictError(`${context.instanceName} still runs after it was killed: end its postmaster before promoting another instance`);
  return "killed";
}

/** A fast stop, else an immediate one; undefined when the postmaster still runs after both. */
async function shutDown(context: InstanceContext, host: HostAccess, fastTimeoutMs: number): Promise<"fast" | "immediate" | undefined> {
  try {
    await stopPostgresql(context, host, "fast", fastTimeoutMs);
    return "fast";
  } catch {
    await stopPostgresql(context, host, "immediate", 10_000).catch(() => undefined);
  }
  return (await isPostgresqlRunning(context)) ? undefined : "immediate";
}

/** Make the server on 127.0.0.1:`port` re-read its configuration (primary_conninfo, synchronous_standby_names...). */
export async function reloadPostgresql(port: number, admin: Credentials): Promise<void> {
  await withSession(port, admin, (client) => client.query("SELECT pg_catalog.pg_reload_conf()"));
}
