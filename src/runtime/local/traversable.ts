/** Let the service user reach its files under a private home (e.g. /root, mode 0700) with a POSIX ACL, not chmod. */
import { stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { UnavailableError, errorMessage } from "../../errors/index.ts";
import { CommandFailedError, runCommand } from "./run-command.ts";
import { isRoot, type ServiceUser } from "./service-user.ts";

/** `path` and every ancestor, outermost first. */
export function ancestorsOf(path: string): string[] {
  const chain: string[] = [];
  let current = resolve(path);
  for (;;) {
    chain.unshift(current);
    const parent = dirname(current);
    if (parent === current) return chain;
    current = parent;
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Can `user` search `directory`? Asked of the kernel itself, so owner, group and ACL rules all count. */
async function canTraverse(directory: string, user: ServiceUser): Promise<boolean> {
  try {
    await runCommand({ command: "/usr/bin/test", args: ["-x", directory] }, { user, timeoutMs: 10_000 });
    return true;
  } catch (error) {
    if (error instanceof CommandFailedError && error.exitCode === 1) return false;
    throw error;
  }
}

function isNotFound(error: unknown): boolean {
  return typeof error === "object" && error !== null && "code" in error && error.code === "ENOENT";
}

async function grantSearch(directory: string, user: ServiceUser): Promise<void> {
  try {
    await runCommand({ command: "setfacl", args: ["-m", `u:${user.name}:x`, directory] }, { timeoutMs: 10_000 });
  } catch (error) {
    if (error instanceof CommandFailedError && isNotFound(error.cause)) {
      throw new UnavailableError(`setfacl is needed to let ${user.name} reach ${directory}: install the acl package (apt-get install -y acl)`, { cause: error });
    }
    throw new UnavailableError(`Could not grant ${user.name} search permission on ${directory} (${errorMessage(error)}); the filesystem may not support ACLs`, { cause: error });
  }
}

/**
 * Grant `user` search (x) permission, by ACL and to that user only, on every directory on the way to
 * `path` (and `path` itself when it is a directory) it cannot traverse. Returns the directories changed.
 * No-op when not root.
 */
export async function ensureTraversable(path: string, user: ServiceUser): Promise<string[]> {
  if (!isRoot()) return [];
  const changed: string[] = [];
  // Outermost first: whether a directory is reachable depends on every directory above it.
  for (const directory of ancestorsOf(path)) {
    if (!(await isDirectory(directory))) continue;
    if (await canTraverse(directory, user)) continue;
    await grantSearch(directory, user);
    changed.push(directory);
  }
  return changed;
}

/** Does `directory`'s ACL name `user` (by uid)? */
async function hasUserEntry(directory: string, user: ServiceUser): Promise<boolean> {
  const { stdout } = await runCommand({ command: "getfacl", args: ["--omit-header", "--absolute-names", "--numeric", directory] }, { timeoutMs: 10_000 });
  return stdout.split("\n").some((line) => line.startsWith(`user:${user.uid}:`));
}

/**
 * Take back what ensureTraversable granted `user` on the way to `path`, before the user is removed (its uid may be
 * given to another user later). Directories that cannot be read or changed are left as they are. No-op when not root.
 */
export async function revokeTraversal(path: string, user: ServiceUser): Promise<string[]> {
  if (!isRoot()) return [];
  const changed: string[] = [];
  for (const directory of ancestorsOf(path)) {
    if (!(await isDirectory(directory))) continue;
    try {
      if (!(await hasUserEntry(directory, user))) continue;
      await runCommand({ command: "setfacl", args: ["-x", `u:${user.uid}`, directory] }, { timeoutMs: 10_000 });
      changed.push(directory);
    } catch {
      // No acl tools or no ACL support: then nothing was granted here either.
    }
  }
  return changed;
}
