/**
 * Starts a backup's own process (child.ts) for one stream and follows it (ADR 0044): the job goes over the IPC
 * channel, each stored chunk is counted into the writer's progress, the process's calls are answered from the SQL
 * session that stays here, and what it wrote comes back as a chunk list the writer adopts. A process that ends
 * without it (killed, crashed) is a failed attempt: the stream stays unwritten, so the backup cannot commit.
 */
import { fileURLToPath } from "node:url";
import type { WrittenStream } from "../backup/index.ts";
import { keepSpareProcess, runChild, type ChildChannel, type ChildProtocol, type ChildWatch, type SpareTimings } from "../child-process/index.ts";
import { failureError, parseArchiveMessage, replyTo, type ArchiveJob, type ArchiveMessage } from "./protocol.ts";

const CHILD_SCRIPT = fileURLToPath(new URL("./child.ts", import.meta.url));
/**
 * V8's young generation kept to 1 MiB semi-spaces (the default is up to 16 MiB each, in every thread): the process's
 * heap was 67 MiB instead of 36 MiB, its peak 306–327 MiB instead of 255–264 MiB (ADR 0044).
 */
const NODE_FLAGS = ["--max-semi-space-size=1"];

/** What the process wrote, and its peak resident memory (bytes). */
export interface ArchiveResult {
  written: WrittenStream;
  peakBytes: number;
}

/** What the caller answers and counts while the process runs. */
export interface ArchiveHandlers extends ChildWatch {
  /** A call into what stays with the caller (the SQL session): its answer, as plain data. */
  call(name: string): Promise<unknown>;
  /** One chunk stored (or taken from the parent) by the process. */
  onChunk?: ((plaintextBytes: number, storedBytes: number) => void) | undefined;
}

/** Run `job` in a process of its own; resolves with what it wrote, rejects with the error it reported or with why it ended. */
export function archiveInOwnProcess(job: ArchiveJob, handlers: ArchiveHandlers, compileCache?: string): Promise<ArchiveResult> {
  const protocol: ChildProtocol<ArchiveMessage, ArchiveResult> = {
    script: CHILD_SCRIPT,
    nodeFlags: NODE_FLAGS,
    compileCache,
    what: "the backup process",
    unfinished: "before the backup's stream was whole",
    parse: parseArchiveMessage,
    take: (message, channel) => take(message, channel, handlers),
  };
  return runChild(protocol, job, handlers);
}

/**
 * From now on, keep a backup process started ahead of the next backup (its modules loaded through `compileCache`): a
 * backup that names the same cache takes it instead of starting one (0.4–0.6 s of Node's start and module loading on
 * 2 cores), and another is started after it; one that waits 10 minutes without a backup ends. Waiting, it holds
 * 45–65 MiB of its own (ADR 0044).
 */
export function keepBackupProcessReady(compileCache: string, timings: SpareTimings = {}): void {
  keepSpareProcess({ script: CHILD_SCRIPT, nodeFlags: NODE_FLAGS, compileCache }, timings);
}

function take(message: ArchiveMessage, channel: ChildChannel, handlers: ArchiveHandlers): ArchiveResult | Error | undefined {
  switch (message.type) {
    case "progress":
      handlers.onChunk?.(message.plaintextBytes, message.storedBytes);
      return undefined;
    case "call":
      handlers.call(message.name).then(
        (value) => channel.send(replyTo(message.id, { value })),
        (error: unknown) => channel.send(replyTo(message.id, { error })),
      );
      return undefined;
    case "done":
      return { written: message.written, peakBytes: message.peakBytes };
    case "failed":
      return failureError(message.failure);
  }
}
