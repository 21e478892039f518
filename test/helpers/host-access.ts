/**
 * A HostAccess for tests: commands and files belong to the unprivileged `holdfast` user when the
 * tests run as root (database servers refuse root), or to the current user otherwise.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { chmod, chown, mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { promisify } from "node:util";
import type { CommandSpec, HostAccess } from "../../src/engines/index.ts";
import { createHostAccess } from "../../src/runtime/index.ts";

const execFileAsync = promisify(execFile);

/** The service user tests run engines as when they are root. */
export const SERVICE_USER = "holdfast";

/** A HostAccess that can also start long-running servers as the service user. */
export interface TestHostAccess extends HostAccess {
  /** uid/gid the engine runs as; undefined when tests are not root (the current user is used). */
  readonly identity: { uid: number; gid: number } | undefined;
  /** Start `command` as the service user in its own process group (so the whole group can be signalled). */
  spawnServer(command: CommandSpec, cwd: string): ChildProcess;
}

/** Create the service user if it does not exist (root only), and return its ids. */
async function serviceIdentity(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  try {
    await execFileAsync("id", ["-u", SERVICE_USER]);
  } catch {
    await execFileAsync("useradd", ["--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", SERVICE_USER]);
  }
  const uid = Number((await execFileAsync("id", ["-u", SERVICE_USER])).stdout.trim());
  const gid = Number((await execFileAsync("id", ["-g", SERVICE_USER])).stdout.trim());
  return { uid, gid };
}

/** A small, predictable environment: no secrets or test-runner variables leak into engine processes. */
function childEnv(extra: Record<string, string> | undefined): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C.UTF-8", ...extra };
}

/** Run a command to completion as `identity`, rejecting with its stderr on a non-zero exit or timeout. */
function runAs(
  identity: { uid: number; gid: number } | undefined,
  spec: CommandSpec,
  options: { stdin?: string; cwd?: string; timeoutMs?: number } = {},
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(spec.command, spec.args, { ...identity, cwd: options.cwd, env: childEnv(spec.env), stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`${spec.command} exited with ${code ?? signal ?? "?"}: ${stderr.trim()}`));
    });
    // A child that exits without reading its stdin makes the write fail with EPIPE; its exit status tells the story.
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.stdin ?? "");
  });
}

/** Directories from `first` (the first one mkdir created) down to `path`. */
function createdChain(first: string | undefined, path: string): string[] {
  if (first === undefined) return [path];
  const chain: string[] = [];
  for (let dir = path; dir.length >= first.length; dir = dirname(dir)) chain.unshift(dir);
  return chain;
}

/** The test HostAccess; creates the `holdfast` user when running as root. */
export async function createTestHostAccess(): Promise<TestHostAccess> {
  const identity = await serviceIdentity();
  // Streaming commands and files behave as in the runtime, as the same user.
  const runtime = createHostAccess({ name: SERVICE_USER, uid: identity?.uid ?? process.getuid?.() ?? 0, gid: identity?.gid ?? process.getgid?.() ?? 0 });
  const own = async (path: string, mode: number): Promise<void> => {
    await chmod(path, mode);
    if (identity) await chown(path, identity.uid, identity.gid);
  };
  return {
    identity,
    run: (spec, options) => runAs(identity, spec, options),
    async writeFile(path, content, mode = 0o600) {
      await writeFile(path, content, { mode });
      await own(path, mode);
    },
    async mkdir(path) {
      const first = await mkdir(path, { recursive: true, mode: 0o700 });
      for (const dir of createdChain(first, path)) await own(dir, 0o700);
    },
    runStreamingOut: (spec, consume, options) => runtime.runStreamingOut(spec, consume, options),
    runStreamingIn: (spec, input, options) => runtime.runStreamingIn(spec, input, options),
    writeFileFrom: (path, source, mode) => runtime.writeFileFrom(path, source, mode),
    spawnServer(spec, cwd) {
      return spawn(spec.command, spec.args, { ...identity, cwd, env: childEnv(spec.env), detached: true, stdio: ["ignore", "pipe", "pipe"] });
    },
  };
}
