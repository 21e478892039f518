/** Finding engine binaries on this host and asking them their version. */
import { execFile } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { delimiter, join } from "node:path";

/** Directories searched for a binary: PATH (read at call time), then the usual system directories. */
function searchDirectories(): string[] {
  const fromPath = (process.env.PATH ?? "").split(delimiter).filter((dir) => dir !== "");
  return [...fromPath, "/usr/local/bin", "/usr/bin", "/bin"];
}

/** Is `path` an executable file? */
export async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Absolute path of `name` on PATH (or the system directories), or undefined. */
export async function findExecutable(name: string): Promise<string | undefined> {
  for (const dir of searchDirectories()) {
    const candidate = join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** Synchronous `isExecutable`, for the few places that build a command without awaiting. */
export function isExecutableSync(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Synchronous `findExecutable`. */
export function findExecutableSync(name: string): string | undefined {
  return searchDirectories().map((dir) => join(dir, name)).find(isExecutableSync);
}

/** Stdout of a short informational command (`--version`), or undefined when it fails in any way. */
export function runCommandOutput(command: string, args: readonly string[], timeoutMs = 5000): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: timeoutMs, encoding: "utf8" }, (error, stdout) => {
      resolve(error ? undefined : stdout.trim());
    });
  });
}

/** What identifies one file's content without reading it: a package upgrade replaces the file or rewrites it. */
function fileIdentity(found: { dev: number; ino: number; size: number; mtimeMs: number; ctimeMs: number }): string {
  return `${found.dev}:${found.ino}:${found.size}:${found.mtimeMs}:${found.ctimeMs}`;
}

/**
 * Outputs of informational commands, kept while the binary is the same file. Starting a process holds the event loop
 * until the child has exec'd (libuv waits for it): about a millisecond on an idle machine, 50 ms and more on a loaded
 * one, and the engines' versions are asked every 30 s (the node heartbeat), several binaries each time. A `stat`
 * runs on the thread pool and holds nothing.
 */
export class CommandOutputs {
  readonly #known = new Map<string, { identity: string; output: string }>();
  readonly #run: typeof runCommandOutput;

  constructor(run: typeof runCommandOutput = runCommandOutput) {
    this.#run = run;
  }

  /** Stdout of `command args`: the last one while `command` is the same file, else run again (a failure is not kept). */
  async output(command: string, args: readonly string[], timeoutMs = 5000): Promise<string | undefined> {
    const found = await stat(command).catch(() => undefined);
    if (found === undefined) return undefined;
    const key = JSON.stringify([command, ...args]);
    const identity = fileIdentity(found);
    const known = this.#known.get(key);
    if (known?.identity === identity) return known.output;
    const output = await this.#run(command, args, timeoutMs);
    if (output === undefined) this.#known.delete(key);
    else this.#known.set(key, { identity, output });
    return output;
  }
}

/** The outputs of this process: the binaries are the host's, shared by every engine catalog in it. */
const HOST_COMMAND_OUTPUTS = new CommandOutputs();

/** Stdout of a short informational command (`--version`) about a binary, or undefined when it fails in any way; not run again while the binary is unchanged. */
export function commandOutput(command: string, args: readonly string[], timeoutMs = 5000): Promise<string | undefined> {
  return HOST_COMMAND_OUTPUTS.output(command, args, timeoutMs);
}
