/**
 * The body of a chunk pool worker thread: encodes or decodes one chunk per message and posts the result back,
 * transferring the result's memory instead of copying it. Keys arrive with each task and are wiped after it.
 */
import { parentPort } from "node:worker_threads";
import { performChunkTask } from "./chunk-perform.ts";
import type { ChunkTask } from "./chunk-task.ts";

parentPort?.on("message", (task: ChunkTask) => {
  const { result, transfer } = performChunkTask(task);
  parentPort?.postMessage(result, transfer);
});
