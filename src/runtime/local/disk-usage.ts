/**
 * What a directory takes on disk and what its filesystem has free (ADR 0048): a walk that sums each file's allocated
 * blocks (st_blocks × 512, as `du` does; a file with several links counted once), and statfs.
 */
import { lstat, readdir, statfs } from "node:fs/promises";
import { join } from "node:path";

/** Bytes allocated to `directory` and everything below it (0 when it does not exist). Files that vanish mid-walk are skipped. */
export async function diskUsage(directory: string): Promise<number> {
  const seen = new Set<string>();
  let total = 0;
  const pending = [directory];
  for (let path = pending.pop(); path !== undefined; path = pending.pop()) {
    const stats = await lstat(path, { bigint: true }).catch(() => undefined);
    if (stats === undefined) continue;
    const inode = `${stats.dev}:${stats.ino}`;
    if (stats.nlink > 1n && seen.has(inode)) continue;
    if (stats.nlink > 1n) seen.add(inode);
    total += Number(stats.blocks) * 512;
    if (stats.isDirectory()) pending.push(...(await readdir(path).catch(() => [])).map((name) => join(path, name)));
  }
  return total;
}

/** Bytes free for unprivileged users on the filesystem that holds `path` (statfs: bavail × bsize). */
export async function freeDiskBytes(path: string): Promise<number> {
  const stats = await statfs(path);
  return stats.bavail * stats.bsize;
}
