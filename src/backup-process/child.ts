/**
 * A backup's own process (ADR 0044), started by the node agent with `process.execPath`: it takes one ArchiveJob over
 * its IPC channel, writes the engine's archive of one stream under the job's write grant (the walk, the WAL block
 * map of an incremental, chunking, compression, encryption and the repository writes, on its own worker threads),
 * asks the agent for what its SQL session holds (the backup's start and stop), reports each stored chunk, and ends
 * with the chunk list and its peak memory, or with the error as data. It exits as soon as the channel closes.
 */
import { availableParallelism } from "node:os";
import { BackupWriter, ChunkPool, openRepositoryAt, type TransferProgress } from "../backup/index.ts";
import { ownPeak, send, serveOneJob, type ParentCalls } from "../child-process/index.ts";
// This entry runs alone and reports its own peak memory: engines/index.ts would load every engine (about 55 MiB more).
// eslint-disable-next-line no-restricted-imports
import { archiveDataDirectory } from "../engines/postgresql/datadir-backup.ts";
// eslint-disable-next-line no-restricted-imports
import { datadirJobSchema, sessionOverCalls } from "../engines/postgresql/datadir-job.ts";
import { archiveJobSchema, replyError, reportFailure, type ArchiveJob } from "./protocol.ts";

/** Each stored chunk, as the difference from the last progress the writer reported. */
function progressSender(): (progress: TransferProgress) => void {
  let last = { plaintextBytes: 0, storedBytes: 0 };
  return (progress) => {
    void send({ type: "progress", plaintextBytes: progress.plaintextBytes - last.plaintextBytes, storedBytes: progress.storedBytes - last.storedBytes });
    last = { plaintextBytes: progress.plaintextBytes, storedBytes: progress.storedBytes };
  };
}

/**
 * Worker threads encoding chunks when the job does not say: one core is left to this process's main thread, which
 * reads the files and cuts the chunks. Each thread costs its own isolate and malloc arena: on 2 cores a second one
 * took the process from ~255 to ~320 MiB (ADR 0044).
 */
function backupProcessMax(): number {
  return Math.max(1, Math.min(4, availableParallelism()) - 1);
}

/**
 * The encoding threads, started as soon as the process is (the node agent keeps one waiting ahead of the next backup:
 * launcher.ts): each loads its modules, 0.1–0.2 s the backup would otherwise wait for at its first chunk.
 */
const started = new ChunkPool(backupProcessMax());
started.warm();

async function run(job: ArchiveJob, calls: ParentCalls): Promise<object> {
  const archiveJob = datadirJobSchema.parse(job.job);
  const repository = await openRepositoryAt(job.repository);
  const processMax = job.processMax ?? backupProcessMax();
  // One chunk waiting per thread, not two: 226–235 MiB instead of 236–243 MiB, as fast (405 MB, load 3; ADR 0044).
  const grant = { ...job.grant, maxChunksInFlight: job.grant.maxChunksInFlight ?? processMax + 1 };
  const threads = processMax === started.size ? { pool: started } : { processMax };
  if (threads.pool === undefined) void started.close();
  const writer = BackupWriter.fromGrant(repository, grant, { onProgress: progressSender(), ...threads });
  try {
    // Cancel is SIGTERM from the agent: nothing here aborts on its own.
    await archiveDataDirectory(archiveJob, sessionOverCalls((name) => calls.call(name)), writer, job.grant.stream, new AbortController().signal);
    return { type: "done", written: writer.written(job.grant.stream), peakBytes: await ownPeak() };
  } finally {
    await writer.close();
  }
}

serveOneJob({
  parse: (message) => archiveJobSchema.parse(message),
  run,
  failed: (error) => ({ type: "failed", failure: reportFailure(error) }),
  replyError,
});
