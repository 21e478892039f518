/** Supervise database processes: spawn, notice exits, check liveness, stop gracefully then forcefully. */
import type { ChildProcess } from "node:child_process";
import { UnavailableError } from "../../errors/index.ts";
import type { ProcessHandle } from "./adopt.ts";
import { isFinished, readProcessStat } from "./process-identity.ts";
import { type SpawnOptions, startDetached } from "./spawn-detached.ts";

/** Called when a child this supervisor spawned exits. */
export type ExitListener = (pid: number, code: number | null, signal: string | null) => void;

/** How `stop` ended: gracefully, by SIGKILL after the timeout, or there was nothing to stop. */
export type StopOutcome = "stopped" | "killed" | "not-running";

/** The exit of a non-child cannot be waited for; /proc is polled this often instead. */
const POLL_INTERVAL_MS = 50;
/** How long a SIGKILLed process may take to disappear before we give up (it may be stuck in the kernel). */
const KILL_WAIT_MS = 10_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Is `pid` still the process that started at `startTicks` and not finished? Also returns its process group. */
async function identify(pid: number, startTicks: string): Promise<{ processGroup: number } | undefined> {
  const stat = await readProcessStat(pid);
  return stat !== undefined && !isFinished(stat) && stat.startTicks === startTicks ? stat : undefined;
}

/** Signal `pid` (or its group, when negative); false when it no longer exists. */
function signal(target: number, name: NodeJS.Signals): boolean {
  try {
    process.kill(target, name);
    return true;
  } catch (error) {
    if (typeof error === "object" && error !== null && "code" in error && error.code === "ESRCH") return false;
    throw error;
  }
}

/** Wait until the process is gone (or no longer the same process); true if it went within `timeoutMs`. */
async function waitGone(pid: number, startTicks: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await identify(pid, startTicks)) === undefined) return true;
    if (Date.now() >= deadline) return false;
    await sleep(POLL_INTERVAL_MS);
  }
}

/** Owns the children this control plane spawned; every signal is preceded by an identity check. */
export class ProcessSupervisor {
  readonly #children = new Map<number, ChildProcess>();
  readonly #listeners = new Set<ExitListener>();

  /** Start a server detached (see spawnDetached) and report its exit to the listeners. */
  async spawn(options: SpawnOptions): Promise<ProcessHandle> {
    const { pid, startTicks, child } = await startDetached(options);
    this.#children.set(pid, child);
    child.once("exit", (code, exitSignal) => {
      this.#children.delete(pid);
      for (const listener of this.#listeners) listener(pid, code, exitSignal);
    });
    // The exit may have happened before the listener was attached.
    if (child.exitCode !== null || child.signalCode !== null) {
      this.#children.delete(pid);
      for (const listener of this.#listeners) listener(pid, child.exitCode, child.signalCode);
    }
    return { pid, startTicks };
  }

  /** Be told when a child this supervisor spawned exits. Returns a function that unsubscribes. */
  onExit(listener: ExitListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Pids of the children this supervisor spawned that have not exited yet. */
  children(): number[] {
    return [...this.#children.keys()];
  }

  /** Is `pid` still the process that started at `startTicks` (a zombie counts as not running)? */
  async isRunning(pid: number, startTicks: string): Promise<boolean> {
    return (await identify(pid, startTicks)) !== undefined;
  }

  /**
   * Send the graceful signal to the server process itself, wait up to `timeoutMs`, then SIGKILL its
   * process group. A pid that is no longer the process started at `startTicks` is never signalled.
   */
  async stop(pid: number, startTicks: string, behaviour: { signal: NodeJS.Signals; timeoutMs: number }): Promise<StopOutcome> {
    if ((await identify(pid, startTicks)) === undefined || !signal(pid, behaviour.signal)) return "not-running";
    if (await waitGone(pid, startTicks, behaviour.timeoutMs)) return "stopped";
    const current = await identify(pid, startTicks);
    if (current === undefined) return "stopped";
    // Kill the whole group only when the server leads it (it does when we spawned it detached); never our own.
    const target = current.processGroup === pid && pid !== process.pid ? -pid : pid;
    signal(target, "SIGKILL");
    if (await waitGone(pid, startTicks, KILL_WAIT_MS)) return "killed";
    throw new UnavailableError(`Process ${pid} did not exit ${KILL_WAIT_MS} ms after SIGKILL; it may be stuck in uninterruptible I/O (check the disk), then retry`);
  }
}
