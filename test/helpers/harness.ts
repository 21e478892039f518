/**
 * End-to-end harness: a real `holdfast server` child process on a temporary home, the real CLI,
 * and cleanup that leaves no database process behind even when a test fails.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { cp, mkdtemp, readdir, readFile, readlink, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Agent, fetch as undiciFetch } from "undici";
import { base32Decode, totpAt } from "../../src/security/index.ts";
import { removeClusterUsers } from "../../src/lab/index.ts";

export const REPO = resolve(import.meta.dirname, "..", "..");
export const EXAMPLES = resolve(REPO, "..", "shared", "kubeblocks-examples");
/** The CLI as users run it (it execs Node 24 with the compile cache). */
const HOLDFAST = join(REPO, "bin", "holdfast");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** What `holdfast init -o json` prints. */
export interface InitOutput {
  username: string;
  password: string;
  totpSecret: string;
  recoveryCodes: string[];
  server: string;
  caFile: string;
}

/** How a test server's home is made and its process started (defaults: embedded store, 127.0.0.1). */
export interface TestServerOptions {
  beforeStart?: (home: string) => Promise<void>;
  /** Extra `holdfast init` flags, e.g. `--store etcd://...` for the first node of a cluster on etcd. */
  initArgs?: string[];
  /** The loopback address the server listens on. */
  listenHost?: string;
  /** The port it listens on (default 0: the kernel picks). */
  listenPort?: number;
  /** Extra `holdfast server` flags, e.g. `--node-name`. */
  serverArgs?: string[];
}

/** A control plane under test. */
export class TestServer {
  readonly home: string;
  url = "";
  /** A session token made elsewhere (another node of the same cluster); when set, the CLI and fetch use it. */
  session: string | undefined;
  readonly #options: TestServerOptions;
  /** Where the server's output goes (JSON lines at level info). */
  get serverLog(): string {
    return join(this.home, "server-output.log");
  }

  /** The first administrator, as init showed it. */
  admin: InitOutput | undefined;
  /** More `holdfast server` flags (e.g. `--node-name`), used by every start of the process. */
  serverArgs: string[] = [];
  #child: ChildProcess | undefined;
  #agent: Agent | undefined;

  private constructor(home: string, options: TestServerOptions = {}) {
    this.home = home;
    this.#options = options;
    this.serverArgs = options.serverArgs ?? [];
  }

  /**
   * Make a temporary home (under /tmp, which the service user can traverse), initialise it, start a server
   * on it and log the CLI in as the administrator (password + TOTP code computed from the secret init showed).
   */
  static async start(options: TestServerOptions = {}): Promise<TestServer> {
    const home = await mkdtemp(join(tmpdir(), "holdfast-e2e-"));
    const server = new TestServer(home, options);
    await server.init();
    await options.beforeStart?.(home);
    await server.startProcess();
    await server.login(server.mustAdmin().username, server.mustAdmin().password, server.mustAdmin().totpSecret);
    return server;
  }

  /**
   * Another control-plane node of a cluster on etcd: `holdfast init --join` with `joinArgs` (the command
   * `holdfast node join-command` printed, without `holdfast init`, plus --node-name/--advertise); start its server
   * with `startProcess()`. It signs nobody in: set `session` to a session made on another node.
   */
  static async join(joinArgs: string[], options: TestServerOptions = {}): Promise<TestServer> {
    const home = await mkdtemp(join(tmpdir(), "holdfast-e2e-"));
    const server = new TestServer(home, options);
    const result = await run(HOLDFAST, ["init", ...joinArgs, "--home", home, "-o", "json"], { env: { ...process.env, HOLDFAST_HOME: home } });
    if (result.code !== 0) {
      await rm(home, { recursive: true, force: true });
      throw new Error(`holdfast init --join exited ${result.code}\n${result.stdout}\n${result.stderr}`);
    }
    return server;
  }

  /** `holdfast init -o json` on this home. */
  async init(): Promise<InitOutput> {
    const result = await run(HOLDFAST, ["init", "--home", this.home, "-o", "json", ...(this.#options.initArgs ?? [])], { env: { ...process.env, HOLDFAST_HOME: this.home } });
    if (result.code !== 0) throw new Error(`holdfast init exited ${result.code}\n${result.stdout}\n${result.stderr}`);
    this.admin = JSON.parse(result.stdout) as InitOutput;
    return this.admin;
  }

  mustAdmin(): InitOutput {
    if (this.admin === undefined) throw new Error("the home is not initialised");
    return this.admin;
  }

  /** Log the CLI of this home in; the TOTP code is taken from `totpSecret` for the next unused time step. */
  async login(username: string, password: string, totpSecret: string): Promise<CliResult> {
    const code = this.#nextTotp(username, totpSecret);
    return this.ok(["login", "--username", username, "--password-stdin", "--totp", code], `${password}\n`).then((stdout) => ({ code: 0, stdout, stderr: "" }));
  }

  /** A TOTP code not used before by this user in this harness: codes are accepted once, so a second login moves a step ahead. */
  #usedSteps = new Map<string, number>();
  #nextTotp(username: string, totpSecret: string): string {
    const now = Date.now();
    const current = Math.floor(now / 30_000);
    const step = Math.max(current, (this.#usedSteps.get(username) ?? current - 1) + 1);
    if (step > current + 1) throw new Error(`${username} logged in more than twice within 30 s; a TOTP code works once`);
    this.#usedSteps.set(username, step);
    return totpAt(base32Decode(totpSecret), step * 30_000);
  }

  /** Start (or start again) the server process on the same home. */
  async startProcess(): Promise<void> {
    await rm(join(this.home, "server.json"), { force: true });
    const log = openSync(this.serverLog, "a", 0o600);
    const listen = `${this.#options.listenHost ?? "127.0.0.1"}:${this.#options.listenPort ?? 0}`;
    const child = spawn(HOLDFAST, ["server", "--home", this.home, "--listen", listen, "--log-level", "info", ...this.serverArgs], {
      stdio: ["ignore", log, log],
      env: { ...process.env, HOLDFAST_HOME: this.home },
    });
    closeSync(log);
    this.#child = child;
    try {
      this.url = await waitForServerInfo(this.home, child);
    } catch (error) {
      throw new Error(`${error instanceof Error ? error.message : String(error)}\n${await readFile(this.serverLog, "utf8").catch(() => "")}`);
    }
  }

  /** SIGKILL the server process (databases must survive it). */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
  }

  /**
   * Stop the server gracefully. A server still running STOP_TIMEOUT_MS after SIGTERM is a failure, not a hang: it is
   * killed and the error carries the end of its log.
   */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    const timer = new AbortController();
    const stopped = await Promise.race([exited.then(() => true), sleep(STOP_TIMEOUT_MS, false, { signal: timer.signal }).catch(() => true)]);
    timer.abort();
    if (stopped) return;
    const log = await readFile(this.serverLog, "utf8").catch(() => "");
    child.kill("SIGKILL");
    await exited;
    throw new Error(`the holdfast server did not stop within ${STOP_TIMEOUT_MS / 1000} s of SIGTERM; the end of its log:\n${log.slice(-4000)}`);
  }

  /** The pid of the server process, while it runs. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Run the CLI against this server. */
  cli(args: string[], input?: string): Promise<CliResult> {
    const session = this.session === undefined ? {} : { HOLDFAST_TOKEN: this.session };
    return run(HOLDFAST, args, { env: { ...process.env, HOLDFAST_HOME: this.home, HOLDFAST_SERVER: this.url, ...session }, ...(input === undefined ? {} : { input }) });
  }

  /** Run the CLI and fail the test with its output unless it exits 0. */
  async ok(args: string[], input?: string): Promise<string> {
    const result = await this.cli(args, input);
    if (result.code !== 0) throw new Error(`holdfast ${args.join(" ")} exited ${result.code}\n${result.stdout}\n${result.stderr}`);
    return result.stdout;
  }

  /** The CLI's session token (from <home>/config.json). */
  async token(): Promise<string> {
    if (this.session !== undefined) return this.session;
    const config = JSON.parse(await readFile(join(this.home, "config.json"), "utf8")) as { token?: string };
    if (config.token === undefined) throw new Error("the CLI is not logged in");
    return config.token;
  }

  /** fetch against this server, trusting its CA, with the CLI's session (or `token`; null for none). */
  async fetch(path: string, init: { method?: string; headers?: Record<string, string>; body?: string; signal?: AbortSignal } = {}, token?: string | null): Promise<Awaited<ReturnType<typeof undiciFetch>>> {
    this.#agent ??= new Agent({ connect: { ca: await readFile(join(this.home, "tls", "ca.crt"), "utf8") } });
    const bearer = token === undefined ? await this.token() : token;
    const headers = { ...init.headers, ...(bearer === null ? {} : { Authorization: `Bearer ${bearer}` }) };
    return undiciFetch(`${this.url}${path}`, { ...init, headers, dispatcher: this.#agent });
  }

  /** GET an API path as JSON. */
  async api<T = unknown>(path: string): Promise<T> {
    const response = await this.fetch(path);
    return (await response.json()) as T;
  }

  /** Stop the server, kill every database process working inside the home, remove the home. */
  async destroy(): Promise<void> {
    await this.kill();
    await this.#agent?.close();
    for (const pid of await processesInside(this.home)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    await sleep(200);
    await removeClusterUsers(this.home);
    await keepLogs(this.home, this.serverLog);
    // The server's processes kept ready for a job (ADR 0050) run where it was started, not in the home: one exiting
    // with it may still write its module compile cache there while the home is removed (ENOTEMPTY), so retry.
    await rm(this.home, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  }
}

/** HOLDFAST_TEST_KEEP_LOGS=1: the server's output and the instances' logs outlive the home, in /tmp/holdfast-kept-*. */
async function keepLogs(home: string, serverLog: string): Promise<void> {
  if (process.env["HOLDFAST_TEST_KEEP_LOGS"] !== "1") return;
  const kept = join(tmpdir(), `holdfast-kept-${basename(home)}`);
  await cp(join(home, "logs"), join(kept, "logs"), { recursive: true }).catch(() => undefined);
  await cp(serverLog, join(kept, "server-output.log")).catch(() => undefined);
  console.log(`# logs of ${home} kept in ${kept}`);
}

/** How long a graceful stop may take, on a machine loaded by parallel test runs. */
const STOP_TIMEOUT_MS = 120_000;

/** How long a server may take to start: seconds on an idle machine, far more on one loaded by parallel test runs. */
const SERVER_START_TIMEOUT_MS = 90_000;

async function waitForServerInfo(home: string, child: ChildProcess): Promise<string> {
  const deadline = Date.now() + SERVER_START_TIMEOUT_MS;
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
  throw new Error(`holdfast server did not start within ${SERVER_START_TIMEOUT_MS / 1000} s`);
}

/** Remove the OS users the server made for the clusters of `home` (it removes them itself when a cluster is deleted). */
export { removeClusterUsers };

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
