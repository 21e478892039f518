/** Start a server in its own session, as the service user, so it outlives the control plane. */
import { type ChildProcess, spawn } from "node:child_process";
import { constants } from "node:fs";
import { type FileHandle, mkdir, open } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { InternalError, UnavailableError } from "../../errors/index.ts";
import type { CommandSpec } from "../../engines/index.ts";
import type { ProcessHandle } from "./adopt.ts";
import { readProcessStatSync } from "./process-identity.ts";
import { childEnvironment, isRoot, type ServiceUser, spawnIdentity } from "./service-user.ts";

/** What to start and where its output goes. */
export interface SpawnOptions {
  command: CommandSpec;
  user: ServiceUser;
  /** stdout and stderr are appended here; the file belongs to the control plane (mode 0640), not the database. */
  logFile: string;
  cwd?: string;
}

/**
 * Open the instance log for appending, owned by the control plane with mode 0640, so the database
 * can write through the inherited descriptor but cannot rewrite or truncate the file by path.
 */
export async function openLogFile(logFile: string): Promise<FileHandle> {
  await mkdir(dirname(logFile), { recursive: true, mode: 0o750 });
  const handle = await open(logFile, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o640);
  try {
    if (isRoot()) await handle.chown(0, 0);
    await handle.chmod(0o640);
  } catch (error) {
    await handle.close();
    throw error;
  }
  return handle;
}

/** Wait for the child to be started, or for the error that says it could not be. */
function started(child: ChildProcess, name: string): Promise<number> {
  return new Promise((resolve, reject) => {
    child.once("spawn", () => {
      if (child.pid === undefined) reject(new InternalError(`${name} started without a pid`));
      else resolve(child.pid);
    });
    child.once("error", (error) => reject(new UnavailableError(`${name} could not be started: ${error.message}; check that the engine is installed`, { cause: error })));
  });
}

/**
 * The command as spawned: with a umask, through `sh`, which sets it and execs the server in its own place (same pid,
 * same start time, the server's executable), so supervision and adoption see only the server. Node cannot set a
 * child's umask, and changing the control plane's own would race with its other threads.
 */
export function withUmask(spec: CommandSpec): { command: string; args: string[] } {
  if (spec.umask === undefined) return { command: spec.command, args: spec.args };
  const mask = spec.umask.toString(8).padStart(4, "0");
  if (!/^0[0-7]{3}$/.test(mask)) throw new InternalError(`invalid umask ${spec.umask} for ${spec.command}`);
  return { command: "/bin/sh", args: ["-c", `umask ${mask} && exec "$0" "$@"`, spec.command, ...spec.args] };
}

/** Start the server detached; returns the child too, for callers that want its exit event. */
export async function startDetached(options: SpawnOptions): Promise<ProcessHandle & { child: ChildProcess }> {
  const name = basename(options.command.command);
  const log = await openLogFile(options.logFile);
  let child: ChildProcess;
  let whenStarted: Promise<number>;
  let startTicks: string | undefined;
  try {
    const { command, args } = withUmask(options.command);
    child = spawn(command, args, {
      cwd: options.cwd ?? "/",
      env: childEnvironment(options.user, options.command.env),
      stdio: ["ignore", log.fd, log.fd],
      detached: true,
      ...spawnIdentity(options.user),
    });
    // Listen before anything else awaits, or a spawn error would be emitted with no listener.
    whenStarted = started(child, name);
    // It is awaited below, after the log is closed; until then a rejection must not count as unhandled.
    whenStarted.catch(() => undefined);
    // Read now, synchronously: the event loop has not run, so even a child that died at once is not yet reaped.
    if (child.pid !== undefined) startTicks = readProcessStatSync(child.pid)?.startTicks;
  } finally {
    await log.close();
  }
  child.unref();
  const pid = await whenStarted;
  if (startTicks === undefined) throw new InternalError(`${name} (pid ${pid}) started but /proc/${pid}/stat could not be read`);
  return { pid, startTicks, child };
}

/** Start `command` detached as `user`, output appended to `logFile`; returns at once even if it dies at once. */
export async function spawnDetached(options: SpawnOptions): Promise<ProcessHandle> {
  const { pid, startTicks } = await startDetached(options);
  return { pid, startTicks };
}
