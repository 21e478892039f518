/** Shared pieces of the runtime integration tests: temp dirs and a reaper for every process started. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Pids a test started; `killAll` SIGKILLs each (and its group) whatever happened. */
export class Reaper {
  readonly #pids = new Set<number>();

  track(pid: number): number {
    this.#pids.add(pid);
    return pid;
  }

  killAll(): void {
    for (const pid of this.#pids) {
      for (const target of [-pid, pid]) {
        try {
          process.kill(target, "SIGKILL");
        } catch {
          // Already gone, or not a group leader.
        }
      }
    }
    this.#pids.clear();
  }
}

/** A fresh directory under the system temp dir (mode 0700, owned by the current user). */
export function temporaryDirectory(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `holdfast-${prefix}-`));
}

/** Remove a temp directory. */
export function removeDirectory(path: string): Promise<void> {
  return rm(path, { recursive: true, force: true });
}

/** Poll `check` every 20 ms until it is true or `timeoutMs` passes. */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 5_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return check();
}
