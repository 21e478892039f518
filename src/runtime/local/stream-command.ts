/** Commands whose output or input is a stream (a base backup on stdout, a tar on stdin), as another user. */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { basename } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { CommandSpec, StreamingOptions } from "../../engines/index.ts";
import { CommandFailedError, stderrTail } from "./run-command.ts";
import { childEnvironment, spawnIdentity, type ServiceUser } from "./service-user.ts";

/** Most of stderr a failure message carries; the rest is dropped while the command runs. */
const STDERR_KEEP_BYTES = 16 * 1024;

interface Running {
  child: ChildProcessWithoutNullStreams;
  /** Resolves when the command exits: undefined on success, else why it failed. */
  exited: Promise<string | undefined>;
  stderr(): string;
  /** SIGKILL, and let go of the pipes: a descendant still holding them must not keep us waiting. */
  kill(): void;
}

function start(spec: CommandSpec, options: StreamingOptions & { user: ServiceUser }): Running {
  const child = spawn(spec.command, spec.args, {
    cwd: options.cwd ?? "/",
    env: childEnvironment(options.user, spec.env),
    stdio: ["pipe", "pipe", "pipe"],
    ...spawnIdentity(options.user),
  });
  let stderr = Buffer.alloc(0);
  child.stderr.on("data", (chunk: Buffer) => {
    stderr = Buffer.concat([stderr, chunk]);
    if (stderr.length > STDERR_KEEP_BYTES) stderr = stderr.subarray(stderr.length - STDERR_KEEP_BYTES);
  });
  const kill = (): void => {
    child.kill("SIGKILL");
    for (const stream of [child.stdin, child.stdout, child.stderr]) stream.destroy();
  };
  options.signal?.addEventListener("abort", kill, { once: true });
  const exited = new Promise<string | undefined>((resolve) => {
    child.on("error", (error) => resolve(`could not be started (${error.message})`));
    child.on("close", (code, signal) => {
      options.signal?.removeEventListener("abort", kill);
      if (signal !== null) resolve(`was killed by ${signal}`);
      else resolve(code === 0 ? undefined : `exited with code ${code}`);
    });
  });
  return { child, exited, stderr: () => stderr.toString("utf8"), kill };
}

function failure(spec: CommandSpec, running: Running, what: string): CommandFailedError {
  return new CommandFailedError({ command: basename(spec.command), exitCode: running.child.exitCode, signal: running.child.signalCode, stderrTail: stderrTail(running.stderr()), what });
}

/** Run `spec` and hand its stdout to `consume`; see HostAccess.runStreamingOut. */
export async function runStreamingOut(spec: CommandSpec, consume: (stdout: Readable) => Promise<void>, options: StreamingOptions & { user: ServiceUser }): Promise<void> {
  const running = start(spec, options);
  running.child.stdin.end();
  try {
    await consume(running.child.stdout);
  } catch (error) {
    running.kill();
    await running.exited;
    throw error;
  }
  const problem = await running.exited;
  if (problem !== undefined) throw failure(spec, running, problem);
}

/** Run `spec` with `input` as its stdin; see HostAccess.runStreamingIn. */
export async function runStreamingIn(spec: CommandSpec, input: Readable, options: StreamingOptions & { user: ServiceUser }): Promise<void> {
  const running = start(spec, options);
  running.child.stdout.resume();
  try {
    await pipeline(input, running.child.stdin);
  } catch (error) {
    running.kill();
    const problem = await running.exited;
    // A broken pipe means the command died first: its exit and stderr are the story. Anything else is the input's
    // own failure (e.g. a bad backup chunk), which is the story even though the command was killed for it.
    if (problem !== undefined && isBrokenPipe(error)) throw failure(spec, running, problem);
    throw error;
  }
  const problem = await running.exited;
  if (problem !== undefined) throw failure(spec, running, problem);
}

function isBrokenPipe(error: unknown): boolean {
  const code = typeof error === "object" && error !== null && "code" in error ? error.code : undefined;
  return code === "EPIPE" || code === "ERR_STREAM_PREMATURE_CLOSE" || code === "ERR_STREAM_DESTROYED" || code === "ECONNRESET";
}
