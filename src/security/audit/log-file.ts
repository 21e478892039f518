/** `audit.log` on disk: the append handle (replaceable in tests), the tail read on open, and the line reader. */
import { constants } from "node:fs";
import { open } from "node:fs/promises";

/** The log's file name inside the audit directory. */
export const LOG_FILE = "audit.log";

/** An append-only handle on `audit.log`. */
export interface AuditFile {
  /** Write all of `data` at the end of the file (not yet durable). */
  write(data: Buffer): Promise<void>;
  /** Make everything written so far durable (fdatasync). */
  sync(): Promise<void>;
  /** Cut the file back to `size` bytes: used to drop a batch that failed half-way. */
  truncate(size: number): Promise<void>;
  close(): Promise<void>;
}

/** Opens `audit.log` for appending, creating it 0600. */
export type AuditFileOpener = (path: string) => Promise<AuditFile>;

/** The real opener: O_APPEND, no symlinks followed, mode 0600, fdatasync for durability. */
export const openAuditFile: AuditFileOpener = async (path) => {
  const flags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW;
  const handle = await open(path, flags, 0o600);
  await handle.chmod(0o600);
  return {
    write: async (data) => {
      let offset = 0;
      while (offset < data.length) {
        const { bytesWritten } = await handle.write(data, offset, data.length - offset);
        offset += bytesWritten;
      }
    },
    sync: () => handle.datasync(),
    truncate: (size) => handle.truncate(size),
    close: () => handle.close(),
  };
};

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
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW).catch((error: unknown) => {
    if (error instanceof Error && "code" in error && error.code === "ENOENT") return undefined;
    throw error;
  });
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
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW).catch((error: unknown) => {
    if (error instanceof Error && "code" in error && error.code === "ENOENT") return undefined;
    throw error;
  });
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
