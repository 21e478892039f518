/**
 * Starts a script of this tree in a process of its own and follows it (ADR 0050, ADR 0044): `process.execPath`, no
 * shell, an environment with nothing but the compile cache's path, the job over the IPC channel (never argv or env, which carry no secret), messages back
 * to a handler of the caller's protocol, one outcome. Cancel sends SIGTERM, then SIGKILL after a grace, and settles
 * only once the process is gone. A process that ends without its outcome (killed, crashed, a message not of the
 * protocol) is a failed attempt, never a finished one.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
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

/** Run `job` in a new process of `protocol.script`; resolves with its result, rejects with its error or with why it ended. */
export function runChild<Message, Result>(protocol: ChildProtocol<Message, Result>, job: object, watch: ChildWatch = {}): Promise<Result> {
  watch.signal?.throwIfAborted();
  return new ChildRun(spawnChild(protocol), protocol, watch).result(job);
}

/**
 * Start a process of `script` with one `message` that asks it only to load its modules (into its compile cache) and
 * exit. Resolves with whether it ended well; never rejects (without the cache a process is only slower to start).
 */
export function warmChild(script: Pick<ChildProtocol<unknown, unknown>, "script" | "nodeFlags" | "compileCache">, message: object): Promise<boolean> {
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawnChild(script);
    } catch {
      resolve(false);
      return;
    }
    child.once("error", () => resolve(false));
    child.once("exit", (code) => resolve(code === 0));
    child.send(message, (error) => {
      if (error !== null) child.kill("SIGKILL");
    });
  });
}

function spawnChild(protocol: Pick<ChildProtocol<unknown, unknown>, "script" | "nodeFlags" | "compileCache">): ChildProcess {
  const args = [...(protocol.nodeFlags ?? []), "--disable-warning=ExperimentalWarning", protocol.script];
  return spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe", "ipc"], env: childEnvironment(protocol.compileCache), serialization: "json" });
}

/** Nothing but the compile cache's directory (made root's own, 0700, when missing), when there is one. */
function childEnvironment(compileCache: string | undefined): NodeJS.ProcessEnv {
  if (compileCache?.startsWith("/") !== true) return {};
  mkdirSync(compileCache, { recursive: true, mode: 0o700 });
  return { NODE_COMPILE_CACHE: compileCache };
}

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
