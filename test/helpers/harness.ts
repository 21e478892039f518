/**
 * End-to-end harness: a real `holdfast server` child process on a temporary home, the real CLI,
 * and cleanup that leaves no database process behind even when a test fails.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readdir, readFile, readlink, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export const REPO = resolve(import.meta.dirname, "..", "..");
export const EXAMPLES = resolve(REPO, "..", "shared", "kubeblocks-examples");
/** The CLI as users run it (it execs Node 24 with the compile cache). */
const HOLDFAST = join(REPO, "bin", "holdfast");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A control plane under test. */
export class TestServer {
  readonly home: string;
  url = "";
  #child: ChildProcess | undefined;

  private constructor(home: string) {
    this.home = home;
  }

  /** Make a temporary home (under /tmp, which the service user can traverse) and start a server on it. */
  static async start(): Promise<TestServer> {
    const home = await mkdtemp(join(tmpdir(), "holdfast-e2e-"));
    const server = new TestServer(home);
    await server.startProcess();
    return server;
  }

  /** Start (or start again) the server process on the same home. */
  async startProcess(): Promise<void> {
    await rm(join(this.home, "server.json"), { force: true });
    const child = spawn(HOLDFAST, ["server", "--home", this.home, "--listen", "127.0.0.1:0", "--log-level", "warn"], {
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...process.env, HOLDFAST_HOME: this.home },
    });
    this.#child = child;
    this.url = await waitForServerInfo(this.home, child);
  }

  /** SIGKILL the server process (databases must survive it). */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
  }

  /** Stop the server gracefully. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  }

  /** Run the CLI against this server. */
  cli(args: string[], input?: string): Promise<CliResult> {
    return run(HOLDFAST, args, { env: { ...process.env, HOLDFAST_HOME: this.home, HOLDFAST_SERVER: this.url }, ...(input === undefined ? {} : { input }) });
  }

  /** Run the CLI and fail the test with its output unless it exits 0. */
  async ok(args: string[], input?: string): Promise<string> {
    const result = await this.cli(args, input);
    if (result.code !== 0) throw new Error(`holdfast ${args.join(" ")} exited ${result.code}\n${result.stdout}\n${result.stderr}`);
    return result.stdout;
  }

  /** GET an API path as JSON. */
  async api<T = unknown>(path: string): Promise<T> {
    const response = await fetch(`${this.url}${path}`);
    return (await response.json()) as T;
  }

  /** Stop the server, kill every database process working inside the home, remove the home. */
  async destroy(): Promise<void> {
    await this.kill();
    for (const pid of await processesInside(this.home)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    await sleep(200);
    await rm(this.home, { recursive: true, force: true });
  }
}

async function waitForServerInfo(home: string, child: ChildProcess): Promise<string> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`holdfast server exited with code ${child.exitCode}`);
    try {
      const info = JSON.parse(await readFile(join(home, "server.json"), "utf8")) as { url: string; pid: number };
      if (info.pid === child.pid) return info.url;
    } catch {
      // not written yet
    }
    await sleep(50);
  }
  throw new Error("holdfast server did not start within 30 s");
}

/** Pids of processes whose working directory is inside `directory` (database servers chdir into their data). */
export async function processesInside(directory: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cwd = await readlink(`/proc/${entry}/cwd`);
      if (cwd === directory || cwd.startsWith(`${directory}/`)) pids.push(Number(entry));
    } catch {
      // gone or not ours
    }
  }
  return pids;
}

/** Run a program to completion, collecting its output. */
export function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { env: options.env ?? process.env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 180_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolvePromise({ code: code ?? -1, stdout, stderr });
    });
    // A program that exits without reading its input closes the pipe: that is not an error here.
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.input ?? "");
  });
}

/** Poll `check` until it returns a value (not undefined) or time runs out. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}${last === undefined ? "" : `: ${last instanceof Error ? last.message : JSON.stringify(last)}`}`);
}
