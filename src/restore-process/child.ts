/**
 * A restore's own process (ADR 0050), started by the node agent with `process.execPath`: it takes one UnpackJob over
 * its IPC channel, reads the backup's stream (chunks checked, decrypted and decompressed on its worker threads),
 * unpacks it into the directory (tar-unpack.ts: names checked, parallel writes, fsyncs), reports the bytes read, and
 * ends with its peak memory, or with the error as data. It exits as soon as the channel closes (the control plane
 * stopped or cancelled it), so it never outlives its restore.
 *
 * It loads its work (restore-job.ts, the backup reader, zod) and starts its decoding threads at once, before any job:
 * the node agent keeps one such process waiting (keepSpareProcess), so a restore finds them ready instead of paying
 * Node's start, the modules and the threads (0.4–0.6 s on 2 cores). Modules load through the node agent's compile
 * cache, which the launcher names in the environment (NODE_COMPILE_CACHE, a path and no secret); without it, each start
 * strips and compiles them again (0.5–0.6 s); the waiting process writes what it compiled there as soon as it has
 * loaded, so the first restore of a new home leaves the cache filled for the next process.
 */
import { flushCompileCache } from "node:module";
import type { ChildMessage } from "./protocol.ts";

const work = import("./restore-job.ts").then((module) => {
  module.startDecoding();
  // Kept for the next start now, not only when this one exits (a waiting process may wait long).
  flushCompileCache();
  return module;
});

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined || !process.connected) resolve();
    else process.send(message, undefined, {}, () => resolve());
  });
}

async function main(message: unknown): Promise<void> {
  const { runUnpackJob } = await work;
  const outcome = await runUnpackJob(message, send);
  await send(outcome);
  flushCompileCache();
  process.exit(outcome.type === "done" ? 0 : 1);
}

process.once("disconnect", () => process.exit(2));
process.once("message", (message: unknown) => void main(message));
