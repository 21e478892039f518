/**
 * A backup writer as an engine's sink whose data-directory archive runs in a process of its own (ADR 0044): the
 * writer grants the stream (its chunk key, never the data key nor the keyring), the process walks, encodes and
 * stores it, and the writer adopts the chunk list; the manifest is still committed here, after the process's
 * summary, by the backup job.
 */
import type { BackupWriter, RepositoryAddress } from "../backup/index.ts";
import type { ArchiveRequest, BackupSink } from "../engines/index.ts";
import { archiveInOwnProcess } from "./launcher.ts";

/** How a stream's process went, for the log and the backup's events. */
export interface ArchiveFigures {
  stream: string;
  plaintextBytes: number;
  seconds: number;
  peakBytes: number;
}

/** Where the processes write, and what the job follows. */
export interface ArchivingOptions {
  repository: RepositoryAddress;
  processMax?: number | undefined;
  signal?: AbortSignal | undefined;
  onStart?: ((pid: number) => void) | undefined;
  onFinished?: ((figures: ArchiveFigures) => void) | undefined;
  /** The node agent's module compile cache, which the process loads its modules through. */
  compileCache?: string | undefined;
}

/** `writer` as a sink whose archives run in processes of their own. */
export function archivingSink(writer: BackupWriter, options: ArchivingOptions): BackupSink {
  return {
    writeStream: (name, source, streamOptions) => writer.writeStream(name, source, streamOptions),
    parentAttributes: (name) => writer.parentAttributes(name),
    archiveInProcess: (request) => archive(writer, request, options),
  };
}

async function archive(writer: BackupWriter, request: ArchiveRequest, options: ArchivingOptions): Promise<void> {
  const grant = writer.grantStream(request.stream);
  const job = { archive: request.archive, repository: options.repository, grant, job: { ...request.job }, ...(options.processMax === undefined ? {} : { processMax: options.processMax }) };
  const started = performance.now();
  let plaintextBytes = 0;
  const onChunk = (plaintext: number, stored: number): void => {
    plaintextBytes += plaintext;
    writer.countGrantedChunk(request.stream, plaintext, stored);
  };
  const result = await archiveInOwnProcess(job, { call: (name) => request.call(name), onChunk, signal: options.signal, onStart: options.onStart }, options.compileCache);
  writer.adoptStream(request.stream, result.written);
  options.onFinished?.({ stream: request.stream, plaintextBytes, seconds: (performance.now() - started) / 1000, peakBytes: result.peakBytes });
}
