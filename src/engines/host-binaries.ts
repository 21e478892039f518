/** Finding engine binaries on this host and asking them their version. */
import { execFile } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { access } from "node:fs/promises";
import { delimiter, join } from "node:path";

/** Directories searched for a binary: PATH (read at call time), then the usual system directories. */
function searchDirectories(): string[] {
  const fromPath = (process.env.PATH ?? "").split(delimiter).filter((dir) => dir !== "");
  return [...fromPath, "/usr/local/bin", "/usr/bin", "/bin"];
}

/** Is `path` an executable file? */
export async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Absolute path of `name` on PATH (or the system directories), or undefined. */
export async function findExecutable(name: string): Promise<string | undefined> {
  for (const dir of searchDirectories()) {
    const candidate = join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** Synchronous `isExecutable`, for the few places that build a command without awaiting. */
export function isExecutableSync(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Synchronous `findExecutable`. */
export function findExecutableSync(name: string): string | undefined {
  return searchDirectories().map((dir) => join(dir, name)).find(isExecutableSync);
}

/** Stdout of a short informational command (`--version`), or undefined when it fails in any way. */
export function commandOutput(command: string, args: readonly string[], timeoutMs = 5000): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: timeoutMs, encoding: "utf8" }, (error, stdout) => {
      resolve(error ? undefined : stdout.trim());
    });
  });
}
