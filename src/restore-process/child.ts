/**
 * A restore's own process (ADR 0050), started by the node agent with `process.execPath`: it takes one UnpackJob over
 * its IPC channel, reads the backup's stream (chunks checked, decrypted and decompressed on its worker threads),
 * unpacks it into the directory (tar-unpack.ts: names checked, parallel writes, fsyncs), reports the bytes read, and
 * ends with its peak memory, or with the error as data. It exits as soon as the channel closes (the control plane
 * stopped or cancelled it), so it never outlives its restore.
 */
import { readFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { BackupReader, openRepositoryAt } from "../backup/index.ts";
// This entry runs alone and reports its own peak memory: engines/index.ts would load every engine (about 55 MiB more).
// eslint-disable-next-line no-restricted-imports
import { unpackTar } from "../engines/tar-unpack.ts";
import { reportFailure, unpackJobSchema, type ChildMessage, type UnpackJob } from "./protocol.ts";

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined || !process.connected) resolve();
    else process.send(message, undefined, {}, () => resolve());
  });
}

/** The stream's plaintext, each chunk reported as it is handed to the unpack. */
async function* reported(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
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
 * Worker threads decoding chunks when the job does not say: one core is left to this process's main thread, which
 * parses the tar and drives the writes and fsyncs. On 2 cores, one thread was both faster and ~65 MiB smaller than two
 * (405 MB of tar, load average ~6: 2.7 s / 213–216 MiB against 2.7–4.1 s / 276–281 MiB; ADR 0050).
 */
function restoreProcessMax(): number {
  return Math.max(1, Math.min(4, availableParallelism()) - 1);
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

async function run(job: UnpackJob): Promise<ChildMessage> {
  const repository = await openRepositoryAt(job.repository);
  const reader = BackupReader.fromGrant(repository, job.grant);
  const input = reader.openStream(job.stream, { processMax: job.processMax ?? restoreProcessMax() });
  try {
    const summary = await unpackTar(reported(input), job.directory, { owner: job.owner, excluded: new Set(job.excluded), onWritten: release });
    return { type: "done", ...summary, peakBytes: await ownPeak() };
  } finally {
    input.destroy();
  }
}

async function main(message: unknown): Promise<void> {
  let outcome: ChildMessage;
  try {
    outcome = await run(unpackJobSchema.parse(message));
  } catch (error) {
    outcome = { type: "failed", failure: reportFailure(error) };
  }
  await send(outcome);
  process.exit(outcome.type === "done" ? 0 : 1);
}

process.once("disconnect", () => process.exit(2));
process.once("message", (message: unknown) => void main(message));
