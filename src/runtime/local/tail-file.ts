/** The end of a log file, for error messages and `describe`. */
import { open } from "node:fs/promises";

/**
 * The last `maxBytes` of `path` as text, starting at a line boundary when the file is longer;
 * empty when the file does not exist.
 */
export async function tailFile(path: string, maxBytes: number): Promise<string> {
  let handle;
  try {
    handle = await open(path, "r");
  } catch (error) {
    if (typeof error === "object" && error !== null && "code" in error && error.code === "ENOENT") return "";
    throw error;
  }
  try {
    const { size } = await handle.stat();
    const length = Math.max(0, Math.min(size, Math.floor(maxBytes)));
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, size - length);
    const text = buffer.subarray(0, bytesRead).toString("utf8");
    if (length === size) return text;
    // We started mid-file: drop the partial first line (and any split UTF-8 character with it).
    const newline = text.indexOf("\n");
    return newline === -1 ? text : text.slice(newline + 1);
  } finally {
    await handle.close();
  }
}
