/** Small file-system helpers: atomic replacement and error codes. */
import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { link, open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { syncDirectory } from "../../util/index.ts";

/** Whether a file-system error carries `code`. */
export function isErrorCode(error: unknown, code: string): boolean {
  return error instanceof Error && "code" in error && error.code === code;
}

/**
 * Write `content` to `path` atomically: temp file, fsync, rename (or link, when `exclusive`: never replace), fsync of
 * the directory. A crash leaves either the old file or the new one, never a mix.
 */
export async function writeFileAtomically(path: string, content: Buffer | string, options: { mode: number; exclusive: boolean }): Promise<void> {
  const directory = dirname(path);
  const temporary = join(directory, `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  const handle = await open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, options.mode);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    if (options.exclusive) await link(temporary, path);
    else await rename(temporary, path);
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
  await syncDirectory(directory);
}

export { syncDirectory };
