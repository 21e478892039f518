/**
 * The work of a restore's own process (child.ts): one UnpackJob, parsed here, read (chunks checked, decrypted and
 * decompressed on worker threads) and unpacked into its directory; the outcome as a message. Loaded by child.ts once
 * the job has arrived, after the module compile cache is on.
 */
import { readFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { BackupReader, openRepositoryAt } from "../backup/index.ts";
// This entry runs alone and reports its own peak memory: engines/index.ts would load every engine (about 55 MiB more).
// eslint-disable-next-line no-restricted-imports
import { unpackTar } from "../engines/tar-unpack.ts";
import { reportFailure, unpackJobSchema, type ChildMessage } from "./protocol.ts";

/** Sends one message to the parent; resolves once it is written (or at once when the channel is gone). */
export type Send = (message: ChildMessage) => Promise<void>;

/** The stream's plaintext, each chunk reported as it is handed to the unpack. */
async function* reported(chunks: AsyncIterable<Buffer>, send: Send): AsyncGenerator<Buffer> {
  for await (const chunk of chunks) {
    void send({ type: "progress", bytes: chunk.length });
    yield chunk;
  }
}

/** Pieces at least this large are released at once when written (below, they may share Node's small-buffer pool). */
const RELEASE_AT_LEAST = 64 * 1024;

/**
 * Free a decoded chunk's memory as soon as its writes are done: it arrived from a worker thread as an ArrayBuffer of
 * its own, which detaching (`transfer(0)`) gives back now. Left to the collector, written chunks piled up: the
 * process's peak grew with the restore's length (231 MiB at pgbench scale 50, 308 MiB at scale 200; ADR 0050).
 */
function release(data: Buffer): void {
  const memory = data.buffer;
  if (data.byteLength >= RELEASE_AT_LEAST && data.byteOffset === 0 && data.byteLength === memory.byteLength && memory instanceof ArrayBuffer) memory.transfer(0);
}

/**
 * Worker threads decoding chunks when the job does not say. On 2 cores, none: the main thread decodes each chunk
 * between handing out the writes of the one before, which the kernel carries out on libuv's threads meanwhile. Measured
 * on a 771 MB tar, 4 runs each, alternated (load average 6–7.6, so noisy): the same total time on 0, 1 or 2 threads
 * (medians 3.8, 3.8, 3.7 s), the first chunk ~0.2 s sooner (no thread to start), and 119–148 MiB of peak against
 * 183–193 MiB with one thread and 245–250 with two (ADR 0050). With more cores, one is left to the main thread
 * (parsing the tar, driving the writes and fsyncs) and the others decode, at most 3 (not measured here).
 */
function restoreProcessMax(): number {
  const cores = Math.min(4, availableParallelism());
  return cores <= 2 ? 0 : cores - 1;
}

/**
 * This process's own peak resident memory (bytes): VmHWM, the high-water mark of its own address space. Not
 * `resourceUsage().maxRSS`: Linux carries into it the memory of the forked copy of the parent before exec (a server
 * holding 600 MiB of buffers made a new process report 605 MiB while its own VmHWM was 47 MiB).
 */
async function ownPeak(): Promise<number> {
  const status = await readFile("/proc/self/status", "utf8").catch(() => "");
  const kib = /^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1];
  return kib === undefined ? process.resourceUsage().maxRSS * 1024 : Number(kib) * 1024;
}

async function unpack(message: unknown, send: Send): Promise<ChildMessage> {
  const job = unpackJobSchema.parse(message);
  const repository = await openRepositoryAt(job.repository);
  const reader = BackupReader.fromGrant(repository, job.grant);
  const input = reader.openStream(job.stream, { processMax: job.processMax ?? restoreProcessMax() });
  try {
    const summary = await unpackTar(reported(input, send), job.directory, { owner: job.owner, excluded: new Set(job.excluded), onWritten: release });
    return { type: "done", ...summary, peakBytes: await ownPeak() };
  } finally {
    input.destroy();
  }
}

/** Run the job `message` carries: its summary, or its failure as data. */
export async function runUnpackJob(message: unknown, send: Send): Promise<ChildMessage> {
  try {
    return await unpack(message, send);
  } catch (error) {
    return { type: "failed", failure: reportFailure(error) };
  }
}
