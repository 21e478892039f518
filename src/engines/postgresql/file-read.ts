/** Reading a piece of a data-directory file whose size may change while it is read. */
import { constants } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";

/** `buffer.length` bytes at `position` into `buffer`, zero-filled past the end of a file that shrank. */
export async function readExactly(handle: FileHandle, position: number, buffer: Buffer): Promise<Buffer> {
  const length = buffer.length;
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  if (filled < length) buffer.fill(0, filled);
  return buffer;
}

/**
 * Bytes from `position` of the file at `absolute` into all of `target`, as they are now: zeros past its end, and
 * all zeros when it is gone (its tar header was written from an earlier listing; WAL replay repairs a relation).
 */
export async function readPieceOf(absolute: string, position: number, target: Buffer): Promise<void> {
  let handle: FileHandle;
  try {
    handle = await open(absolute, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    target.fill(0);
    return;
  }
  try {
    await readExactly(handle, position, target);
  } finally {
    await handle.close();
  }
}
