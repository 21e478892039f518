/**
 * Starts a restore's own process (child.ts) for one UnpackJob and follows it, through src/child-process: the job goes
 * over the IPC channel (never argv or env, which carry no secret: the environment is empty), progress comes back as
 * messages, the outcome as a summary with the process's peak memory or as the error it stood for. Cancel sends
 * SIGTERM, then SIGKILL after a grace, and resolves only once the process is gone, so the caller may empty the
 * directory behind it. A process that ends without its summary (killed, crashed) is a failed attempt, never a
 * finished one.
 */
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { keepSpareProcess, runChild, type ChildProtocol, type ChildWatch, type SpareTimings } from "../child-process/index.ts";
import { failureError, parseChildMessage, type ChildMessage, type UnpackJob } from "./protocol.ts";

const CHILD_SCRIPT = fileURLToPath(new URL("./child.ts", import.meta.url));
export { KILL_GRACE_MS } from "../child-process/index.ts";

/** What the caller follows: cancel, the bytes read, and the process once started (its pid, for tests and logs). */
export interface UnpackWatch extends ChildWatch {
  onBytes?: ((bytes: number) => void) | undefined;
}

/** What the restore process wrote, and its peak resident memory (bytes). */
export interface UnpackResult {
  files: number;
  directories: number;
  bytes: number;
  peakBytes: number;
}

/** The restore process's protocol; its modules load through `compileCache` (child.ts). */
function restoreProtocol(watch: UnpackWatch, compileCache: string | undefined): ChildProtocol<ChildMessage, UnpackResult> {
  return {
    script: CHILD_SCRIPT,
    compileCache,
    what: "the restore process",
    unfinished: "before the data was whole",
    parse: parseChildMessage,
    take: (message) => {
      if (message.type === "progress") {
        watch.onBytes?.(message.bytes);
        return undefined;
      }
      if (message.type === "failed") return failureError(message.failure);
      return { files: message.files, directories: message.directories, bytes: message.bytes, peakBytes: message.peakBytes };
    },
  };
}

function makeCacheDirectory(compileCache: string | undefined): void {
  if (compileCache !== undefined) mkdirSync(compileCache, { recursive: true, mode: 0o700 });
}

/** Run `job` in a process of its own; resolves with its summary, rejects with the error it reported or with why it ended. */
export function unpackInProcess(job: UnpackJob, watch: UnpackWatch = {}): Promise<UnpackResult> {
  watch.signal?.throwIfAborted();
  makeCacheDirectory(job.compileCache);
  return runChild(restoreProtocol(watch, job.compileCache), job, watch);
}

/**
 * From now on, keep a restore process started ahead of the next restore (its modules loaded through `compileCache`,
 * its decoding threads started): a restore whose job names the same cache takes it instead of starting one, and
 * another is started after it; one that waits 10 minutes without a restore ends. Waiting, it holds 40–65 MiB of its
 * own (ADR 0050). False, and nothing kept, when the cache's directory cannot be made.
 */
export function keepRestoreProcessReady(compileCache: string, timings: SpareTimings = {}): boolean {
  try {
    makeCacheDirectory(compileCache);
  } catch {
    // Without a cache there is nothing to keep ready: a restore starts its own process, only slower.
    return false;
  }
  keepSpareProcess({ script: CHILD_SCRIPT, compileCache }, timings);
  return true;
}
