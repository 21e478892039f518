/** The HostAccess an engine uses: commands and files as the service user. */
import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { mkdir, open, rename, unlink, type FileHandle } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import type { Readable } from "node:stream";
import type { HostAccess } from "../../engines/index.ts";
import { claimDirectory, pathsBetween } from "./directories.ts";
import { runCommand } from "./run-command.ts";
import { isRoot, type ServiceUser } from "./service-user.ts";
import { runStreamingIn, runStreamingOut } from "./stream-command.ts";

/**
 * Write `content` atomically: a fresh temp file beside `path` (O_EXCL, so a planted symlink is never
 * followed), owned by `user` with `mode`, then renamed over `path`.
 */
export async function writeOwnedFile(path: string, content: string, mode: number, user: ServiceUser): Promise<void> {
  await writeOwnedAtomically(path, mode, user, (handle) => handle.writeFile(content, "utf8"));
}

/** `writeOwnedFile` from a stream. */
export async function writeOwnedFileFrom(path: string, source: Readable, mode: number, user: ServiceUser): Promise<void> {
  await writeOwnedAtomically(path, mode, user, async (handle) => {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      // A write may be short: carry on from where it stopped.
      for (let offset = 0; offset < chunk.length; ) offset += (await handle.write(chunk, offset)).bytesWritten;
    }
  });
}

async function writeOwnedAtomically(path: string, mode: number, user: ServiceUser, write: (handle: FileHandle) => Promise<void>): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  const handle = await open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    if (isRoot()) await handle.chown(user.uid, user.gid);
    await handle.chmod(mode);
    await write(handle);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  await handle.close();
  await rename(temporary, path);
}

/** Create `path` with parents; the directories created, and `path` itself, are owned by `user` with mode 0700. */
export async function mkdirOwned(path: string, user: ServiceUser): Promise<void> {
  const target = resolve(path);
  const first = await mkdir(target, { recursive: true, mode: 0o700 });
  const directories = first === undefined ? [target] : pathsBetween(first, target);
  for (const directory of directories) await claimDirectory(directory, user);
}

/** HostAccess that runs commands and writes files as `user`. */
export function createHostAccess(user: ServiceUser): HostAccess {
  return {
    run: (command, options = {}) => runCommand(command, { ...options, user }),
    writeFile: (path, content, mode = 0o600) => writeOwnedFile(path, content, mode, user),
    mkdir: (path) => mkdirOwned(path, user),
    runStreamingOut: (command, consume, options = {}) => runStreamingOut(command, consume, { ...options, user }),
    runStreamingIn: (command, input, options = {}) => runStreamingIn(command, input, { ...options, user }),
    writeFileFrom: (path, source, mode = 0o600) => writeOwnedFileFrom(path, source, mode, user),
  };
}
