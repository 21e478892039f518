/**
 * A restore's own process (ADR 0050), started by the node agent with `process.execPath`: it takes one UnpackJob over
 * its IPC channel, reads the backup's stream (chunks checked, decrypted and decompressed on its worker threads),
 * unpacks it into the directory (tar-unpack.ts: names checked, parallel writes, fsyncs), reports the bytes read, and
 * ends with its peak memory, or with the error as data. It exits as soon as the channel closes (the control plane
 * stopped or cancelled it), so it never outlives its restore.
 *
 * This file imports nothing of Holdfast's at start: the job names the node agent's module compile cache
 * (`compileCache`), which is turned on before the work (restore-job.ts, its backup reader, zod, and its worker threads'
 * chunk decoder) is loaded. Loading and stripping the types of those modules took 0.5–0.6 s of every restore's start
 * without the cache, 0.1 s with it. The node agent fills the cache at its start with a `{ type: "warm" }` message, on
 * which the process loads the modules and exits.
 */
import { enableCompileCache, flushCompileCache } from "node:module";
import type { ChildMessage } from "./protocol.ts";

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined || !process.connected) resolve();
    else process.send(message, undefined, {}, () => resolve());
  });
}

/**
 * Turn on the compile cache the job names (an absolute path; the node agent made it, root's own, 0700), for this
 * thread and, through the environment worker threads copy, for the decoding threads. Anything else leaves it off.
 */
function useCompileCache(message: unknown): void {
  const directory = typeof message === "object" && message !== null && "compileCache" in message ? message.compileCache : undefined;
  if (typeof directory !== "string" || !directory.startsWith("/")) return;
  enableCompileCache(directory);
  process.env["NODE_COMPILE_CACHE"] = directory;
}

/** `{ type: "warm" }`: load the modules (into the compile cache) and exit, restoring nothing (launcher.ts). */
function isWarmUp(message: unknown): boolean {
  return typeof message === "object" && message !== null && "type" in message && message.type === "warm";
}

async function main(message: unknown): Promise<void> {
  useCompileCache(message);
  const { runUnpackJob } = await import("./restore-job.ts");
  if (isWarmUp(message)) {
    flushCompileCache();
    process.exit(0);
  }
  const outcome = await runUnpackJob(message, send);
  await send(outcome);
  flushCompileCache();
  process.exit(outcome.type === "done" ? 0 : 1);
}

process.once("disconnect", () => process.exit(2));
process.once("message", (message: unknown) => void main(message));
