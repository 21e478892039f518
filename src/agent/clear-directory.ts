/** Empty a directory without removing it (it keeps its owner and mode). */
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";

/** Remove everything inside `directory`; a missing directory is fine. */
export async function clearDirectory(directory: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  await Promise.all(entries.map((entry) => rm(join(directory, entry), { recursive: true, force: true })));
}
