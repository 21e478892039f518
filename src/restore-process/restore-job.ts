/**
 * The work of a restore's own process (child.ts): one UnpackJob, parsed here, read (chunks checked, decrypted and
 * decompressed on worker threads) and unpacked into its directory; the outcome as a message. Loaded by child.ts once
 * the job has arrived, after the module compile cache is on.
 */
import { readFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { BackupReader, ChunkPool, openRepositoryAt } from "../backup/index.ts";
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
 * Worker threads decoding chunks when the job does not say: one core is left to the main thread (parsing the tar,
 * driving the writes and fsyncs), the others decode, at least one, at most 3. Decoding on the main thread instead was
 * as fast under load (medians 3.8 s on 0 or 1 thread, load 6–7.6) but not on an idle machine: the scale-50 restore
 * took 4.9–6.1 s to Restored in 4 bench runs with it against 4.2 and 4.3 s with one thread (ADR 0050), for 30–50 MiB
 * more of peak memory (about 200 MiB).
 */
function restoreProcessMax(): number {
  const cores = Math.min(4, availableParallelism());
  return Math.max(1, cores - 1);
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

/** The decoding threads, started before the job arrives (startDecoding); the job uses them unless it asks for another count. */
let started: ChunkPool | undefined;

/**
 * Start the decoding threads now, while the process waits for its job (a process started ahead of it: each thread
 * loads its modules, 0.1–0.2 s, which the restore would otherwise wait for at its first chunk).
 */
export function startDecoding(): void {
  started ??= new ChunkPool(restoreProcessMax());
  started.warm();
}

/** What the job decodes with: the threads already started when their count fits, else `processMax` new ones. */
function decoding(processMax: number | undefined): { processMax: number; pool?: ChunkPool } {
  const count = processMax ?? restoreProcessMax();
  return started !== undefined && started.size === count ? { processMax: count, pool: started } : { processMax: count };
}

async function unpack(message: unknown, send: Send): Promise<ChildMessage> {
  const job = unpackJobSchema.parse(message);
  const repository = await openRepositoryAt(job.repository);
  const reader = BackupReader.fromGrant(repository, job.grant);
  const input = reader.openStream(job.stream, decoding(job.processMax));
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
