/** fsync of a directory. */
import { constants } from "node:fs";
import { open } from "node:fs/promises";

/** fsync a directory, so a created, renamed or removed entry in it survives a crash. */
export async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
