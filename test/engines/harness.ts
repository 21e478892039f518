/** Shared steps of the engine integration tests: directories, ports, a server process, a real client. */
import assert from "node:assert/strict";
import { execFile, type ChildProcess } from "node:child_process";
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LOOPBACK, type Credentials, type Engine, type InstanceContext } from "../../src/engines/index.ts";
import type { TestHostAccess } from "../helpers/host-access.ts";

/** A temp directory the service user may traverse (it owns only the instance root inside). */
export async function traversableTempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await chmod(dir, 0o711);
  return dir;
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The context of instance `name` under `root`, on the newest installed version of `engine`. */
export async function instanceContext(engine: Engine, root: string, parameters: Record<string, string>): Promise<InstanceContext> {
  const version = engine.matchVersion(undefined, await engine.detectVersions());
  if (version === undefined) throw new Error(`${engine.name} is not installed: run npm run engines:install`);
  const rootDirectory = join(root, "instance");
  return {
    instanceName: `${engine.name}-0`,
    rootDirectory,
    dataDirectory: join(rootDirectory, "data"),
    runDirectory: join(rootDirectory, "run"),
    port: await freePort(),
    version,
    parameters,
    role: "primary",
  };
}

/** A server started as the service user, in its own process group, with its output kept for failures. */
export class ServerProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  #output = "";
  #running = true;

  constructor(child: ChildProcess) {
    this.child = child;
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (this.#output += chunk));
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (this.#output += chunk));
    this.exited = new Promise((resolve) => child.on("exit", (code) => {
      this.#running = false;
      resolve(code);
    }));
  }

  get output(): string {
    return this.#output;
  }

  get running(): boolean {
    return this.#running;
  }

  /** Signal the whole process group (postmaster and its children). */
  signal(signal: NodeJS.Signals): void {
    if (!this.#running || this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      // already gone
    }
  }

  /** Stop the way the engine asks; true when it exited within the engine's timeout. */
  async stop(engine: Engine): Promise<boolean> {
    this.signal(engine.stop.signal);
    const timeout = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), engine.stop.timeoutMs).unref());
    const result = await Promise.race([this.exited, timeout]);
    if (result !== "timeout") return true;
    this.signal("SIGKILL");
    await this.exited;
    return false;
  }
}

/** Poll `check` until it is true, the process dies, or `timeoutMs` passes. */
export async function waitUntil(check: () => Promise<boolean>, server: ServerProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    if (!server.running) throw new Error(`server exited before becoming ready:\n${server.output}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`server not ready within ${timeoutMs} ms:\n${server.output}`);
}

/** Result of a client run: exit code and combined output. */
export interface ClientResult {
  code: number;
  output: string;
}

/**
 * Run the engine's real client with `extraArgs`, as the engine describes it: a password file
 * (0600, in `scratch`) named by its env var, and the env the engine gives; `withCredentials` false passes neither.
 */
export async function runClient(engine: Engine, port: number, account: Credentials, extraArgs: string[], options: { scratch: string; withCredentials?: boolean }): Promise<ClientResult> {
  const withCredentials = options.withCredentials ?? true;
  const spec = engine.clientCommand(LOOPBACK, port, account);
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C.UTF-8" };
  if (withCredentials) Object.assign(env, spec.env);
  let file = "/dev/null";
  if (withCredentials && spec.passwordFile) {
    file = join(options.scratch, `pass-${Date.now()}-${Math.random().toString(36).slice(2)}`);
    await writeFile(file, spec.passwordFile.content, { mode: 0o600 });
  }
  // Without credentials, point the password file at nothing, so no ~/.pgpass (or ~/.my.cnf) of the test runner is used.
  const args = [...spec.args, ...extraArgs];
  if (spec.passwordFile !== undefined && "envVar" in spec.passwordFile) env[spec.passwordFile.envVar] = file;
  else if (spec.passwordFile !== undefined) args.unshift(`${spec.passwordFile.argumentPrefix}${file}`);
  return new Promise((resolve) => {
    execFile(spec.command, args, { env, timeout: 15_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

/** Every regular file under `dir` whose bytes contain `secret`, and how many files were read. */
export async function filesContaining(dir: string, secret: string): Promise<{ scanned: number; hits: string[] }> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const needle = Buffer.from(secret, "utf8");
  const hits: string[] = [];
  let scanned = 0;
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    scanned++;
    if ((await readFile(path)).includes(needle)) hits.push(path);
  }
  return { scanned, hits };
}

/** Remove a test directory and everything in it. */
export function removeTree(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}

/** The median of some timings. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Poll `check` every 50 ms until it holds or `timeoutMs` passes. */
export async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Start the engine's server as `host`'s service user and wait until it answers (in whatever role). */
export async function startReady(engine: Engine, context: InstanceContext, admin: Credentials, host: TestHostAccess, timeoutMs: number): Promise<ServerProcess> {
  const server = new ServerProcess(host.spawnServer(engine.startCommand(context), context.runDirectory));
  await waitUntil(() => engine.probeReady(context.port, admin), server, timeoutMs);
  return server;
}

/** An instance of a test cluster and its running server, if any. */
export interface TestNode {
  context: InstanceContext;
  server: ServerProcess | undefined;
}

/** Start `node`'s server (startReady, 60 s). */
export async function startNode(engine: Engine, node: TestNode, admin: Credentials, host: TestHostAccess): Promise<void> {
  node.server = await startReady(engine, node.context, admin, host, 60_000);
}

/** Stop `node`'s server the engine's way, which must succeed within the engine's timeout. */
export async function stopNode(engine: Engine, node: TestNode): Promise<void> {
  assert.ok(node.server);
  assert.equal(await node.server.stop(engine), true, node.server.output);
  node.server = undefined;
}

/**
 * Start the engine's server as `host`'s service user and wait until it answers as a primary; its pid file names the
 * process and belongs to the service user.
 */
export async function startAsPrimary(engine: Engine, context: InstanceContext, admin: Credentials, host: TestHostAccess, timeoutMs: number): Promise<ServerProcess> {
  const server = await startReady(engine, context, admin, host, timeoutMs);
  assert.equal(await engine.probeRole(context.port, admin), "primary");
  const pid = Number((await readFile(engine.pidFile(context), "utf8")).trim());
  assert.equal(pid, server.child.pid);
  if (host.identity) assert.equal((await stat(engine.pidFile(context))).uid, host.identity.uid);
  return server;
}

/** The engine's stop: within its timeout, a clean exit, and then no answer on its port. */
export async function assertStopsCleanly(server: ServerProcess | undefined, engine: Engine, port: number, admin: Credentials): Promise<void> {
  assert.ok(server);
  assert.equal(await server.stop(engine), true, server.output);
  assert.equal(await server.exited, 0, server.output);
  assert.equal(await engine.probeReady(port, admin), false);
}
