/** Run a command to completion, optionally as another user, with stdin and a deadline. */
import { spawn } from "node:child_process";
import { basename } from "node:path";
import { InternalError } from "../../errors/index.ts";
import type { CommandSpec } from "../../engines/index.ts";
import { childEnvironment, type ServiceUser, spawnIdentity } from "./service-user.ts";

/** Default deadline of a command: long enough for initdb on a slow disk. */
const DEFAULT_TIMEOUT_MS = 300_000;
/** How much of stderr an error message carries. */
const STDERR_TAIL_CHARS = 2_000;

/** Options of one command run. */
export interface RunOptions {
  stdin?: string;
  cwd?: string;
  timeoutMs?: number;
  /** Run as this user (only applied when the control plane is root). */
  user?: ServiceUser;
}

/** A command that could not be run or did not succeed; carries no stdin and no arguments. */
export class CommandFailedError extends InternalError {
  readonly command: string;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stderrTail: string;

  constructor(details: { command: string; exitCode: number | null; signal: string | null; stderrTail: string; what: string; cause?: unknown }) {
    const tail = details.stderrTail === "" ? "" : `: ${details.stderrTail}`;
    super(`${details.command} ${details.what}${tail}`, details.cause === undefined ? {} : { cause: details.cause });
    this.command = details.command;
    this.exitCode = details.exitCode;
    this.signal = details.signal;
    this.stderrTail = details.stderrTail;
  }
}

/** The last characters of a command's stderr, trimmed, for an error message. */
export function stderrTail(stderr: string, maxChars = STDERR_TAIL_CHARS): string {
  const trimmed = stderr.trim();
  return trimmed.length <= maxChars ? trimmed : `…${trimmed.slice(-maxChars)}`;
}

/** Why a finished command failed, or undefined when it succeeded. */
function failureOf(code: number | null, signal: string | null, timedOutMs: number | undefined): string | undefined {
  if (timedOutMs !== undefined) return `timed out after ${timedOutMs} ms and was killed`;
  if (signal !== null) return `was killed by ${signal}`;
  if (code !== 0) return `exited with code ${code}`;
  return undefined;
}

/** Run `spec` to completion; rejects with CommandFailedError on a non-zero exit, a signal or the deadline. */
export function runCommand(spec: CommandSpec, options: RunOptions = {}): Promise<{ stdout: string; stderr: string }> {
  const name = basename(spec.command);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const child = spawn(spec.command, spec.args, {
      cwd: options.cwd ?? "/",
      env: childEnvironment(options.user, spec.env),
      stdio: ["pipe", "pipe", "pipe"],
      ...spawnIdentity(options.user),
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let timedOutMs: number | undefined;
    const timer = setTimeout(() => {
      timedOutMs = timeoutMs;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    // A child that exits without reading its stdin makes the write fail with EPIPE; its exit status tells the story.
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.stdin ?? "");
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(new CommandFailedError({ command: name, exitCode: null, signal: null, stderrTail: "", what: `could not be started (${error.message})`, cause: error }));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const out = Buffer.concat(stdout).toString("utf8");
      const err = Buffer.concat(stderr).toString("utf8");
      const failure = failureOf(code, signal, timedOutMs);
      if (failure === undefined) resolve({ stdout: out, stderr: err });
      else reject(new CommandFailedError({ command: name, exitCode: code, signal, stderrTail: stderrTail(err), what: failure }));
    });
  });
}
