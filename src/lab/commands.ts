/** Running programs for the lab: to completion (collecting output), or in the background inside a host's namespace. */
import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { basename } from "node:path";
import { UnavailableError } from "../errors/index.ts";

/** What a finished program said. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of one run. */
export interface CommandOptions {
  /** Written to stdin, then closed (how secrets reach a program: never argv). */
  input?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 180_000;

/** The environment lab programs run with: the caller's, without Holdfast settings that would point them elsewhere. */
export function labEnvironment(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith("HOLDFAST_")) env[key] = value;
  return { ...env, ...extra };
}

/** Run `argv` to completion; never rejects for a non-zero exit (the caller decides), only when it cannot start. */
export function runCommand(argv: readonly string[], options: CommandOptions = {}): Promise<CommandResult> {
  const [command, ...args] = argv;
  if (command === undefined) return Promise.reject(new Error("runCommand: empty argv"));
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: options.env ?? labEnvironment(), stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal === null ? -1 : 128), stdout, stderr });
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.input ?? "");
  });
}

/** Run `argv` and return its stdout; a non-zero exit becomes an error naming the program (not its arguments) and its stderr. */
export async function mustRun(argv: readonly string[], options: CommandOptions = {}): Promise<string> {
  const result = await runCommand(argv, options);
  if (result.code !== 0) {
    const what = argv.slice(0, 3).map((word) => basename(word)).join(" ");
    throw new UnavailableError(`${what} … exited with code ${result.code}: ${result.stderr.trim().slice(-2000) || result.stdout.trim().slice(-2000)}`);
  }
  return result.stdout;
}

/** Start `argv` in the background, its own process group, output appended to `logFile` (0600); returns its pid. */
export function spawnBackground(argv: readonly string[], logFile: string, env: NodeJS.ProcessEnv = labEnvironment()): number {
  const [command, ...args] = argv;
  if (command === undefined) throw new Error("spawnBackground: empty argv");
  const log = openSync(logFile, "a", 0o600);
  try {
    const child = spawn(command, args, { detached: true, stdio: ["ignore", log, log], env });
    child.on("error", () => undefined);
    child.unref();
    if (child.pid === undefined) throw new UnavailableError(`could not start ${basename(command)}`);
    return child.pid;
  } finally {
    closeSync(log);
  }
}
