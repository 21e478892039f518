/** `audit.log` on disk: the append handle (replaceable in tests), the tail read on open, and the line reader. */
import { constants } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";

/** The log's file name inside the audit directory. */
export const LOG_FILE = "audit.log";

/** How many fdatasyncs of the log may be in flight at once (the writer overlaps them with the next writes). */
export const SYNCS_IN_FLIGHT = 3;

/** An append-only handle on `audit.log`. */
export interface AuditFile {
  /** Write all of `data` at the end of the file (not yet durable); one write at a time. */
  write(data: Buffer): Promise<void>;
  /**
   * Make everything written before the call durable (fdatasync), or reject. Up to SYNCS_IN_FLIGHT calls may be in
   * flight at once, and each must report a write-back failure of any part of the file on its own.
   */
  sync(): Promise<void>;
  /** Cut the file back to `size` bytes: used to drop a batch that failed half-way. */
  truncate(size: number): Promise<void>;
  close(): Promise<void>;
}

/** Opens `audit.log` for appending, creating it 0600. */
export type AuditFileOpener = (path: string) => Promise<AuditFile>;

/**
 * The real opener: O_APPEND, no symlinks followed, mode 0600, fdatasync for durability.
 *
 * Concurrent fdatasyncs each run on a descriptor of their own. Linux reports a write-back failure once per open file
 * description, to the first fsync that looks: two fsyncs on one descriptor could see the failure reported to one and a
 * success to the other, which would then acknowledge lost data. The descriptors are all opened here, before anything
 * is written, because a descriptor opened after a failure does not hear of it.
 */
export const openAuditFile: AuditFileOpener = async (path) => {
  const flags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW;
  const handle = await open(path, flags, 0o600);
  const idle: FileHandle[] = [handle];
  try {
    await handle.chmod(0o600);
    while (idle.length < SYNCS_IN_FLIGHT) idle.push(await openSameFile(path, handle));
  } catch (error) {
    await Promise.all(idle.map((descriptor) => descriptor.close()));
    throw error;
  }
  const all = [...idle];
  return {
    write: async (data) => {
      let offset = 0;
      while (offset < data.length) {
        const { bytesWritten } = await handle.write(data, offset, data.length - offset);
        offset += bytesWritten;
      }
    },
    sync: async () => {
      const descriptor = idle.pop();
      if (descriptor === undefined) throw new Error(`more than ${SYNCS_IN_FLIGHT} fdatasyncs of the audit log at once`);
      try {
        await descriptor.datasync();
      } finally {
        idle.push(descriptor);
      }
    },
    truncate: (size) => handle.truncate(size),
    close: async () => {
      await Promise.all(all.map((descriptor) => descriptor.close()));
    },
  };
};

/** Another descriptor on the file `handle` has open (refused if the path now names another file). */
async function openSameFile(path: string, handle: FileHandle): Promise<FileHandle> {
  const other = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  const [mine, theirs] = await Promise.all([handle.stat(), other.stat()]);
  if (mine.ino === theirs.ino && mine.dev === theirs.dev) return other;
  await other.close();
  throw new Error(`${path} was replaced while it was being opened`);
}

/** The end of the log as found on open. */
export interface LogTail {
  /** Bytes up to and including the last newline. */
  completeSize: number;
  /** The last complete line, without its newline. */
  lastLine: string | undefined;
  /** Bytes after the last newline: a record cut short by a crash. */
  partial: Buffer;
}

const TAIL_WINDOW = 64 * 1024;

/** Read the end of the log without reading all of it. A missing file is an empty log. */
export async function readLogTail(path: string): Promise<LogTail> {
  const handle = await openForReading(path);
  if (handle === undefined) return { completeSize: 0, lastLine: undefined, partial: Buffer.alloc(0) };
  try {
    const { size } = await handle.stat();
    for (let window = TAIL_WINDOW; ; window *= 2) {
      const start = Math.max(0, size - window);
      const buffer = Buffer.alloc(size - start);
      await handle.read(buffer, 0, buffer.length, start);
      const tail = tailOf(buffer, start);
      if (tail !== undefined) return tail;
    }
  } finally {
    await handle.close();
  }
}

/** The tail found in `buffer` (the file from `start` to its end), or undefined when a larger window is needed. */
function tailOf(buffer: Buffer, start: number): LogTail | undefined {
  const lastNewline = buffer.lastIndexOf(0x0a);
  if (lastNewline === -1) return start === 0 ? { completeSize: 0, lastLine: undefined, partial: buffer } : undefined;
  const previousNewline = lastNewline === 0 ? -1 : buffer.lastIndexOf(0x0a, lastNewline - 1);
  if (previousNewline === -1 && start > 0) return undefined;
  return {
    completeSize: start + lastNewline + 1,
    lastLine: buffer.subarray(previousNewline + 1, lastNewline).toString("utf8"),
    partial: buffer.subarray(lastNewline + 1),
  };
}

/** One line of the log, numbered from 1; `complete` is false for a last line without its newline. */
export interface LogLine {
  line: number;
  text: string;
  complete: boolean;
}

/** Stream the lines of the log; a missing file has none. */
export async function* readLogLines(path: string): AsyncGenerator<LogLine> {
  const handle = await openForReading(path);
  if (handle === undefined) return;
  let rest: Buffer = Buffer.alloc(0);
  let line = 0;
  try {
    for await (const chunk of handle.createReadStream({ autoClose: false }) as AsyncIterable<Buffer>) {
      rest = rest.length === 0 ? chunk : Buffer.concat([rest, chunk]);
      let from = 0;
      for (let end = rest.indexOf(0x0a); end !== -1; end = rest.indexOf(0x0a, from)) {
        yield { line: ++line, text: rest.subarray(from, end).toString("utf8"), complete: true };
        from = end + 1;
      }
      rest = rest.subarray(from);
    }
  } finally {
    await handle.close();
  }
  if (rest.length > 0) yield { line: line + 1, text: rest.toString("utf8"), complete: false };
}

/** A complete line read from the end of the log backwards, with the byte offset it starts at. */
export interface LogLineFromEnd {
  text: string;
  offset: number;
}

/** Counts what a reader took from disk, so callers (and tests) can see that a query did not read the whole file. */
export interface ReadCounter {
  bytesRead: number;
}

const BACKWARD_CHUNK = 64 * 1024;

/**
 * Stream the complete lines of the log newest first, reading it from the end in chunks: a caller that stops early
 * reads only the tail. A torn last line (no newline) is skipped; a missing file has no lines.
 */
export async function* readLogLinesBackward(path: string, counter: ReadCounter = { bytesRead: 0 }): AsyncGenerator<LogLineFromEnd> {
  const handle = await openForReading(path);
  if (handle === undefined) return;
  try {
    const { size } = await handle.stat();
    // The part of a line read so far whose beginning lies in an earlier chunk (with its newline).
    let carry: Buffer = Buffer.alloc(0);
    let end = size;
    let skipTorn = true;
    while (end > 0) {
      const start = Math.max(0, end - BACKWARD_CHUNK);
      const chunk = Buffer.alloc(end - start);
      await handle.read(chunk, 0, chunk.length, start);
      counter.bytesRead += chunk.length;
      let data = carry.length === 0 ? chunk : Buffer.concat([chunk, carry]);
      if (skipTorn) {
        const lastNewline = data.lastIndexOf(0x0a);
        if (lastNewline === -1 && start > 0) {
          carry = data;
          end = start;
          continue;
        }
        data = data.subarray(0, lastNewline + 1);
        skipTorn = false;
      }
      carry = yield* linesOf(data, start);
      end = start;
    }
    if (carry.length > 0) yield { text: carry.subarray(0, carry.length - 1).toString("utf8"), offset: 0 };
  } finally {
    await handle.close();
  }
}

/**
 * Yield the complete lines of `data` (empty or ending with a newline; it begins at file offset `start`) newest first,
 * and return what precedes them: the end of a line that began in an earlier chunk, with its newline.
 */
function* linesOf(data: Buffer, start: number): Generator<LogLineFromEnd, Buffer> {
  let lineEnd = data.length - 1;
  while (lineEnd > 0) {
    const newline = data.lastIndexOf(0x0a, lineEnd - 1);
    if (newline === -1) break;
    yield { text: data.subarray(newline + 1, lineEnd).toString("utf8"), offset: start + newline + 1 };
    lineEnd = newline;
  }
  return data.subarray(0, lineEnd + 1);
}

/** The log opened read-only (symlinks refused); undefined when it does not exist yet. */
async function openForReading(path: string): Promise<FileHandle | undefined> {
  try {
    return await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    if (error instanceof Error && "code" in error && error.code === "ENOENT") return undefined;
    throw error;
  }
}
