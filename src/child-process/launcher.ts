/**
 * Starts a script of this tree in a process of its own and follows it (ADR 0050, ADR 0044): `process.execPath`, no
 * shell, an environment with nothing but the compile cache's path, the job over the IPC channel (never argv or env, which carry no secret), messages back
 * to a handler of the caller's protocol, one outcome. Cancel sends SIGTERM, then SIGKILL after a grace, and settles
 * only once the process is gone. A process that ends without its outcome (killed, crashed, a message not of the
 * protocol) is a failed attempt, never a finished one.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import type { Socket } from "node:net";
import { UnavailableError } from "../errors/index.ts";

/** After SIGTERM, how long a cancelled process gets before SIGKILL (an fsync under way delays either). */
export const KILL_GRACE_MS = 2000;
/** The end of the process's stderr kept for the error message of a crash. */
const STDERR_TAIL = 2048;

/** What the caller follows: cancel, and the process once started (its pid, for tests and logs). */
export interface ChildWatch {
  signal?: AbortSignal | undefined;
  onStart?: ((pid: number) => void) | undefined;
}

/** The way back to the running process, for a handler that answers its calls. */
export interface ChildChannel {
  send(message: object): void;
}

/** One protocol: how messages are read and what each one means. */
export interface ChildProtocol<Message, Result> {
  /** The script's absolute path. */
  script: string;
  /** Node's own flags before the script (no secret: they are in argv). */
  nodeFlags?: readonly string[];
  /**
   * The node agent's module compile cache (an absolute path, root's own): the process's modules load through it, the
   * environment's one variable (NODE_COMPILE_CACHE, a path and no secret). Without it, every start strips and compiles
   * them again.
   */
  compileCache?: string | undefined;
  /** "the backup process": the subject of the error messages. */
  what: string;
  /** "before the backup was whole": what a process that ended without its outcome did not finish. */
  unfinished: string;
  /** A message of the protocol, or undefined (the process is then stopped and not trusted further). */
  parse(value: unknown): Message | undefined;
  /** Handle one message: its outcome when it is the last one (a result, or the error it stands for), else undefined. */
  take(message: Message, channel: ChildChannel): Result | Error | undefined;
}

/** How a process is started: its script, Node's flags and its compile cache. */
export type ChildSpawn = Pick<ChildProtocol<unknown, unknown>, "script" | "nodeFlags" | "compileCache">;

/**
 * Run `job` in a process of `protocol.script`: the one kept ready for it (keepSpareProcess) when there is one, else a
 * new one. Resolves with its result, rejects with its error or with why it ended.
 */
export function runChild<Message, Result>(protocol: ChildProtocol<Message, Result>, job: object, watch: ChildWatch = {}): Promise<Result> {
  watch.signal?.throwIfAborted();
  const child = spares.take(protocol) ?? spawnChild(protocol);
  spares.jobStarted(protocol);
  const running = new ChildRun(child, protocol, watch).result(job);
  // Replaced once no job runs any more: a process starting beside one would take the cores it is using.
  const ended = (): void => spares.jobEnded();
  running.then(ended, ended);
  return running;
}

/**
 * Keep one process of `spec` started ahead of its job, from now on: it loads its modules while nothing waits for it,
 * and the next runChild of the same script, flags and cache takes it instead of starting one (Node's start, the
 * modules and the worker threads a script starts at load: 0.4–0.6 s on 2 cores, ADR 0050). A process taken is replaced
 * `replaceAfterMs` after the last job of any script run here has ended (not beside a job, whose cores it would take: a
 * backup's replacement starting in the middle of the restore that follows it cost that restore its CPU); one
 * that waits `idleMs` (10 minutes) without a job ends, and none is started again until this is called again: callers
 * call it when they learn a job is coming, so that it starts while the control plane prepares the job. A waiting process keeps nothing of this process alive, and exits with it (its IPC
 * channel closes). Idempotent.
 */
export function keepSpareProcess(spec: ChildSpawn, timings: SpareTimings = {}): void {
  spares.keep(spec, timings);
}

/** The processes waiting for a job now (their pids: for tests and diagnostics). */
export function spareProcessIds(): number[] {
  return spares.pids();
}

/** Stop keeping spare processes and end those waiting (a node agent that stops). */
export function stopSpareProcesses(): void {
  spares.stop();
}

function spawnChild(protocol: ChildSpawn): ChildProcess {
  const args = [...(protocol.nodeFlags ?? []), "--disable-warning=ExperimentalWarning", protocol.script];
  return spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe", "ipc"], env: childEnvironment(protocol.compileCache), serialization: "json" });
}

/** Nothing but the compile cache's directory (made root's own, 0700, when missing), when there is one. */
function childEnvironment(compileCache: string | undefined): NodeJS.ProcessEnv {
  if (compileCache?.startsWith("/") !== true) return {};
  mkdirSync(compileCache, { recursive: true, mode: 0o700 });
  return { NODE_COMPILE_CACHE: compileCache };
}

/** A replacement starts this long after the job that took a spare has ended: not beside what follows it (a server's start). */
const REPLACE_AFTER_MS = 2000;
/** A process kept waiting this long without a job ends (and is not replaced until asked for again): no idle cost at rest. */
const IDLE_MS = 10 * 60_000;

/** How long processes kept ready wait, and how soon one taken is replaced. */
export interface SpareTimings {
  replaceAfterMs?: number | undefined;
  idleMs?: number | undefined;
}

function spawnKey(spec: ChildSpawn): string {
  return JSON.stringify([spec.script, spec.nodeFlags ?? [], spec.compileCache ?? ""]);
}

/** Whether `child` holds this process's event loop open (its handle, IPC channel and stderr pipe). */
function holdOpen(child: ChildProcess, hold: boolean): void {
  // A piped stdio stream is a socket.
  const stderr = child.stderr as Socket | null;
  if (hold) {
    child.ref();
    child.channel?.ref();
    stderr?.ref();
  } else {
    child.unref();
    child.channel?.unref();
    stderr?.unref();
  }
}

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null && child.connected;
}

interface Kept {
  spec: ChildSpawn;
  replaceAfterMs: number;
  idleMs: number;
}

interface Waiting {
  child: ChildProcess;
  idle: NodeJS.Timeout;
}

/** The processes kept ready: at most one per script, flags and cache, each until it is taken or has waited its idle time. */
class SpareProcesses {
  readonly #kept = new Map<string, Kept>();
  readonly #waiting = new Map<string, Waiting>();
  /** Jobs running now, of any script; the scripts whose process kept ready was taken (or none was there), to replace. */
  #jobs = 0;
  readonly #replacing = new Set<string>();

  keep(spec: ChildSpawn, timings: SpareTimings): void {
    const key = spawnKey(spec);
    this.#kept.set(key, { spec, replaceAfterMs: timings.replaceAfterMs ?? REPLACE_AFTER_MS, idleMs: timings.idleMs ?? IDLE_MS });
    this.#start(key);
  }

  take(spec: ChildSpawn): ChildProcess | undefined {
    const key = spawnKey(spec);
    const waiting = this.#waiting.get(key);
    if (waiting === undefined) return undefined;
    this.#waiting.delete(key);
    clearTimeout(waiting.idle);
    if (!alive(waiting.child)) {
      waiting.child.kill("SIGKILL");
      return undefined;
    }
    holdOpen(waiting.child, true);
    return waiting.child;
  }

  /** A job of `spec` starts (in the process kept for it, or not): its replacement waits until no job runs. */
  jobStarted(spec: ChildSpawn): void {
    this.#jobs++;
    const key = spawnKey(spec);
    if (this.#kept.has(key)) this.#replacing.add(key);
  }

  /** A job ended: with none left running, each process taken is replaced after its delay, unless a job starts meanwhile. */
  jobEnded(): void {
    this.#jobs--;
    if (this.#jobs > 0) return;
    for (const key of this.#replacing) {
      const kept = this.#kept.get(key);
      if (kept === undefined) continue;
      setTimeout(() => {
        if (this.#jobs > 0 || !this.#replacing.delete(key)) return;
        this.#start(key);
      }, kept.replaceAfterMs).unref();
    }
  }

  pids(): number[] {
    return [...this.#waiting.values()].flatMap(({ child }) => (child.pid === undefined ? [] : [child.pid]));
  }

  stop(): void {
    this.#kept.clear();
    this.#replacing.clear();
    for (const key of [...this.#waiting.keys()]) this.#end(key);
  }

  #start(key: string): void {
    const kept = this.#kept.get(key);
    if (kept === undefined || this.#waiting.has(key)) return;
    let child: ChildProcess;
    try {
      child = spawnChild(kept.spec);
    } catch {
      return;
    }
    const forget = (): void => {
      const waiting = this.#waiting.get(key);
      if (waiting?.child !== child) return;
      clearTimeout(waiting.idle);
      this.#waiting.delete(key);
    };
    child.once("error", forget);
    child.once("exit", forget);
    holdOpen(child, false);
    const idle = setTimeout(() => this.#end(key), kept.idleMs);
    idle.unref();
    this.#waiting.set(key, { child, idle });
  }

  #end(key: string): void {
    const waiting = this.#waiting.get(key);
    if (waiting === undefined) return;
    this.#waiting.delete(key);
    clearTimeout(waiting.idle);
    waiting.child.kill("SIGTERM");
  }
}

const spares = new SpareProcesses();

/** One process's life, from the job sent to its exit. */
class ChildRun<Message, Result> {
  readonly #child: ChildProcess;
  readonly #protocol: ChildProtocol<Message, Result>;
  readonly #watch: ChildWatch;
  #outcome: { result: Result } | Error | undefined;
  #stderr = "";

  constructor(child: ChildProcess, protocol: ChildProtocol<Message, Result>, watch: ChildWatch) {
    this.#child = child;
    this.#protocol = protocol;
    this.#watch = watch;
  }

  result(job: object): Promise<Result> {
    const child = this.#child;
    child.stderr?.setEncoding("utf8").on("data", (text: string) => (this.#stderr = (this.#stderr + text).slice(-STDERR_TAIL)));
    child.on("message", (message: unknown) => this.#take(message));
    const cancel = (): void => this.#stop();
    this.#watch.signal?.addEventListener("abort", cancel, { once: true });
    const ended = new Promise<Result>((resolve, reject) => {
      child.once("error", (error) => reject(new UnavailableError(`${this.#protocol.what} could not start: ${error.message}`, { cause: error })));
      child.once("exit", (code, signal) => {
        this.#watch.signal?.removeEventListener("abort", cancel);
        const settled = this.#settle(code, signal);
        if (settled instanceof Error) reject(settled);
        else resolve(settled.result);
      });
    });
    if (child.pid !== undefined) this.#watch.onStart?.(child.pid);
    child.send(job, (error) => {
      if (error !== null) this.#stop();
    });
    return ended;
  }

  #take(value: unknown): void {
    const message = this.#protocol.parse(value);
    if (message === undefined) {
      this.#outcome ??= new UnavailableError(`${this.#protocol.what} sent a message that is not of its protocol`);
      this.#stop();
      return;
    }
    const channel: ChildChannel = { send: (reply) => this.#send(reply) };
    const taken = this.#protocol.take(message, channel);
    if (taken !== undefined) this.#outcome ??= taken instanceof Error ? taken : { result: taken };
  }

  #send(message: object): void {
    const child = this.#child;
    if (!child.connected) return;
    child.send(message, (error) => {
      if (error !== null) this.#stop();
    });
  }

  /** SIGTERM now, SIGKILL after the grace if it is still there. */
  #stop(): void {
    const child = this.#child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), KILL_GRACE_MS);
    child.once("exit", () => clearTimeout(timer));
  }

  #settle(code: number | null, signal: NodeJS.Signals | null): { result: Result } | Error {
    const signalled = this.#watch.signal;
    if (signalled?.aborted === true) return signalled.reason instanceof Error ? signalled.reason : new UnavailableError(`${this.#protocol.what} was cancelled`);
    const outcome = this.#outcome;
    if (outcome instanceof Error) return outcome;
    if (outcome !== undefined && code === 0) return outcome;
    const how = signal === null ? `with code ${code ?? "?"}` : `on ${signal}`;
    const said = this.#stderr.trim() === "" ? "" : `: ${this.#stderr.trim().split("\n").slice(-3).join(" ")}`;
    return new UnavailableError(`${this.#protocol.what} ended ${how} ${this.#protocol.unfinished}${said}`);
  }
}
