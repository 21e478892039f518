/** The marker an engine writes when `initialize` has finished, so a half-done init is redone. */
import { access } from "node:fs/promises";
import { join } from "node:path";

/** Name of the marker file, inside the data directory (emptying the directory removes it too). */
export const INITIALIZED_MARKER = ".holdfast-initialized";

/** Path of the marker in `dataDirectory`. */
export function markerPath(dataDirectory: string): string {
  return join(dataDirectory, INITIALIZED_MARKER);
}

/** Does `path` exist? */
export async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Content of the marker: when the init finished, for whoever looks at the directory. */
export function markerContent(now: Date = new Date()): string {
  return `initialized by Holdfast at ${now.toISOString()}\n`;
}
