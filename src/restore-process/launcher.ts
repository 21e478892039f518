/**
 * Starts a restore's own process (child.ts) for one UnpackJob and follows it: the job goes over the IPC channel (never
 * argv or env, which carry no secret: the environment is empty), progress comes back as messages, the outcome as a
 * summary with the process's peak memory or as the error it stood for. Cancel sends SIGTERM, then SIGKILL after a
 * grace, and resolves only once the process is gone, so the caller may empty the directory behind it. A process that
 * ends without its summary (killed, crashed) is a failed attempt, never a finished one.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { UnavailableError } from "../errors/index.ts";
import { failureError, parseChildMessage, type ChildMessage, type UnpackJob } from "./protocol.ts";

const CHILD_SCRIPT = fileURLToPath(new URL("./child.ts", import.meta.url));
/** After SIGTERM, how long a cancelled process gets before SIGKILL (an fsync under way delays either). */
export const KILL_GRACE_MS = 2000;
/** The end of the process's stderr kept for the error message of a crash. */
const STDERR_TAIL = 2048;

/** What the caller follows: cancel, the bytes read, and the process once started (its pid, for tests and logs). */
export interface UnpackWatch {
  signal?: AbortSignal | undefined;
  onBytes?: ((bytes: number) => void) | undefined;
  onStart?: ((pid: number) => void) | undefined;
}

/** What the restore process wrote, and its peak resident memory (bytes). */
export interface UnpackResult {
  files: number;
  directories: number;
  bytes: number;
  peakBytes: number;
}

/** A restore process, its compile cache made first (it holds code the process runs as root: the node agent's own directory). */
function spawnChild(compileCache: string | undefined): ChildProcess {
  if (compileCache !== undefined) mkdirSync(compileCache, { recursive: true, mode: 0o700 });
  return spawn(process.execPath, ["--disable-warning=ExperimentalWarning", CHILD_SCRIPT], { stdio: ["ignore", "ignore", "pipe", "ipc"], env: {}, serialization: "json" });
}

/** Run `job` in a process of its own; resolves with its summary, rejects with the error it reported or with why it ended. */
export function unpackInProcess(job: UnpackJob, watch: UnpackWatch = {}): Promise<UnpackResult> {
  watch.signal?.throwIfAborted();
  return new ChildRun(spawnChild(job.compileCache), watch).result(job);
}

/**
 * Start a restore process with nothing to restore: it loads its modules through `compileCache` and exits, so that the
 * first restore of a new home starts as fast as the next ones (0.5–0.6 s of loading otherwise). Resolves with whether
 * it ended well; never rejects (without the cache a restore is only slower to start).
 */
export function warmRestoreProcess(compileCache: string): Promise<boolean> {
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawnChild(compileCache);
    } catch {
      resolve(false);
      return;
    }
    child.once("error", () => resolve(false));
    child.once("exit", (code) => resolve(code === 0));
    child.send({ type: "warm", compileCache }, (error) => {
      if (error !== null) child.kill("SIGKILL");
    });
  });
}

/** One process's life, from the job sent to its exit. */
class ChildRun {
  readonly #child: ChildProcess;
  readonly #watch: UnpackWatch;
  #outcome: ChildMessage | undefined;
  #stderr = "";

  constructor(child: ChildProcess, watch: UnpackWatch) {
    this.#child = child;
    this.#watch = watch;
  }

  result(job: UnpackJob): Promise<UnpackResult> {
    const child = this.#child;
    child.stderr?.setEncoding("utf8").on("data", (text: string) => (this.#stderr = (this.#stderr + text).slice(-STDERR_TAIL)));
    child.on("message", (message: unknown) => this.#take(message));
    const cancel = (): void => this.#stop();
    this.#watch.signal?.addEventListener("abort", cancel, { once: true });
    const ended = new Promise<UnpackResult>((resolve, reject) => {
      child.once("error", (error) => reject(new UnavailableError(`the restore process could not start: ${error.message}`, { cause: error })));
      child.once("exit", (code, signal) => {
        this.#watch.signal?.removeEventListener("abort", cancel);
        const settled = this.#settle(code, signal);
        if (settled instanceof Error) reject(settled);
        else resolve(settled);
      });
    });
    if (child.pid !== undefined) this.#watch.onStart?.(child.pid);
    child.send(job, (error) => {
      if (error !== null) this.#stop();
    });
    return ended;
  }

  #take(value: unknown): void {
    const message = parseChildMessage(value);
    if (message === undefined) {
      this.#outcome = { type: "failed", failure: { kind: "error", code: "INTERNAL", message: "the restore process sent a message that is not of its protocol" } };
      this.#stop();
    } else if (message.type === "progress") this.#watch.onBytes?.(message.bytes);
    else this.#outcome ??= message;
  }

  /** SIGTERM now, SIGKILL after the grace if it is still there. */
  #stop(): void {
    const child = this.#child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), KILL_GRACE_MS);
    child.once("exit", () => clearTimeout(timer));
  }

  #settle(code: number | null, signal: NodeJS.Signals | null): UnpackResult | Error {
    const signalled = this.#watch.signal;
    if (signalled?.aborted === true) return signalled.reason instanceof Error ? signalled.reason : new UnavailableError("the restore was cancelled");
    const outcome = this.#outcome;
    if (outcome?.type === "failed") return failureError(outcome.failure);
    if (outcome?.type === "done" && code === 0) return { files: outcome.files, directories: outcome.directories, bytes: outcome.bytes, peakBytes: outcome.peakBytes };
    const how = signal === null ? `with code ${code ?? "?"}` : `on ${signal}`;
    const said = this.#stderr.trim() === "" ? "" : `: ${this.#stderr.trim().split("\n").slice(-3).join(" ")}`;
    return new UnavailableError(`the restore process ended ${how} before the data was whole${said}`);
  }
}
