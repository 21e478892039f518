/**
 * Reading an instance's own log (the database's stderr/stdout file the node agent writes): the last lines, the lines
 * since a time, and following new lines as they are written. Only the node agent of the instance's node reads it.
 */
import { open, stat } from "node:fs/promises";
import { lineTime } from "../engines/index.ts";
import { NotFoundError } from "../errors/index.ts";

export { lineTime };

/** What part of the log to show. */
export interface LogOptions {
  /** Only the last N lines. */
  tailLines?: number | undefined;
  /** Only lines written at most this many seconds ago (by the timestamps the engine writes). */
  sinceSeconds?: number | undefined;
}

/** At most this much of the end of a log is read for one answer. */
export const MAX_LOG_BYTES = 8 * 1024 * 1024;

/** The lines of `text` to show: since a time (a line without a time goes with the one before), then the last N. */
export function selectLines(text: string, options: LogOptions, now: number): string {
  let lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  if (options.sinceSeconds !== undefined) {
    const from = now - options.sinceSeconds * 1000;
    let keep = false;
    lines = lines.filter((line) => {
      const time = lineTime(line);
      if (time !== undefined) keep = time >= from;
      return keep;
    });
  }
  if (options.tailLines !== undefined) lines = options.tailLines === 0 ? [] : lines.slice(-options.tailLines);
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}

/** The log's end (at most MAX_LOG_BYTES, from a line boundary) and the offset where following starts. */
export async function readLogEnd(file: string): Promise<{ text: string; size: number }> {
  const handle = await open(file, "r").catch((error: unknown) => {
    if (error instanceof Error && "code" in error && error.code === "ENOENT") throw new NotFoundError("the instance has no log yet (it has not been started on its node)");
    throw error;
  });
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, MAX_LOG_BYTES);
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, size - length);
    const text = buffer.subarray(0, bytesRead).toString("utf8");
    if (length === size) return { text, size };
    const newline = text.indexOf("\n");
    return { text: newline === -1 ? "" : text.slice(newline + 1), size };
  } finally {
    await handle.close();
  }
}

/** The text of `file` from `from` to `size` (at most MAX_LOG_BYTES of it), and how many bytes that was. */
async function readRange(file: string, from: number, size: number): Promise<{ text: string; bytes: number }> {
  const handle = await open(file, "r");
  try {
    const buffer = Buffer.alloc(Math.min(size - from, MAX_LOG_BYTES));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, from);
    return { text: buffer.subarray(0, bytesRead).toString("utf8"), bytes: bytesRead };
  } finally {
    await handle.close();
  }
}

/**
 * Call `write` with what is appended to `file` after `offset`, polling every `intervalMs`, until stopped. With
 * `rotated` (the name a log rotated by size is renamed to), what was appended to the old file after the last read
 * is read from there when the file is found shorter.
 */
export function followLog(file: string, offset: number, write: (chunk: string) => void, intervalMs = 500, rotated?: string): { stop(): void } {
  let position = offset;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const poll = async (): Promise<void> => {
    const size = await stat(file).then((s) => s.size, () => position);
    // A log cut shorter (rotated, or the instance was re-created) is read again from its start.
    if (size < position) {
      const old = rotated === undefined ? 0 : await stat(rotated).then((s) => s.size, () => 0);
      const rest = old > position ? (await readRange(rotated ?? file, position, old)).text : "";
      if (rest !== "" && !stopped) write(rest);
      position = 0;
    }
    if (size > position) {
      const { text, bytes } = await readRange(file, position, size);
      position += bytes;
      if (!stopped) write(text);
    }
    if (!stopped) timer = setTimeout(() => void poll().catch(() => undefined), intervalMs);
  };
  timer = setTimeout(() => void poll().catch(() => undefined), intervalMs);
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
