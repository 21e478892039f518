/**
 * A backup repository on the local filesystem: one file per object under a root directory, files 0600 and
 * directories 0700. A put writes a staging file, fsyncs it, renames it into place and fsyncs the directory; a put
 * with `deferSync` leaves both fsyncs to `flush`, which syncs a batch of files and their directories at once.
 */
import { randomBytes } from "node:crypto";
import { mkdir, open, readdir, rename, rm, rmdir, stat, unlink } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { InvalidError, NotFoundError, UnavailableError } from "../errors/index.ts";
import { syncDirectory } from "../util/index.ts";
import { assertKeyPrefix, assertObjectKey } from "./object-keys.ts";
import type { BackupRepository, GetOptions, PutOptions, RepositoryObject } from "./repository.ts";

const STAGING_PREFIX = ".staging-";
/** fsyncs in flight at once during a flush: the filesystem's journal commits them together. */
const FLUSH_PARALLELISM = 16;

/** A repository rooted at a local directory. */
export class LocalRepository implements BackupRepository {
  readonly root: string;
  readonly location: string;

  private constructor(root: string) {
    this.root = root;
    this.location = pathToFileURL(root).href;
  }

  /** Open (creating with mode 0700 if needed) the repository at `root`. */
  static async open(root: string): Promise<LocalRepository> {
    const absolute = resolve(root);
    await mkdir(absolute, { recursive: true, mode: 0o700 });
    return new LocalRepository(absolute);
  }

  async put(key: string, body: Buffer, options: PutOptions = {}): Promise<void> {
    const path = this.pathOf(key);
    const durable = options.deferSync !== true;
    try {
      await this.writeAtomically(path, body, durable);
    } catch (error) {
      // A concurrent delete may remove an emptied directory between mkdir and open: try once more.
      if (errorCode(error) !== "ENOENT") throw wrapIo(error, `store ${key} in ${this.location}`);
      await this.writeAtomically(path, body, durable).catch((again: unknown) => {
        throw wrapIo(again, `store ${key} in ${this.location}`);
      });
    }
  }

  async flush(keys: readonly string[]): Promise<void> {
    const files = keys.map((key) => this.pathOf(key));
    const directories = [...new Set(files.map((file) => dirname(file)))];
    try {
      await inParallel(files, async (file) => {
        const handle = await open(file, "r");
        try {
          await handle.sync();
        } finally {
          await handle.close();
        }
      });
      await inParallel(directories, syncDirectory);
    } catch (error) {
      throw wrapIo(error, `make ${keys.length} object(s) durable in ${this.location}`);
    }
  }

  async get(key: string, options: GetOptions = {}): Promise<Buffer> {
    const path = this.pathOf(key);
    let handle;
    try {
      handle = await open(path, "r");
    } catch (error) {
      if (errorCode(error) === "ENOENT") throw new NotFoundError(`object ${key} does not exist in ${this.location}`);
      throw wrapIo(error, `read ${key} from ${this.location}`);
    }
    try {
      const { size } = await handle.stat();
      if (options.maxBytes !== undefined && size > options.maxBytes) {
        throw new InvalidError(`object ${key} in ${this.location} is ${size} bytes, more than the ${options.maxBytes} expected`);
      }
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  }

  async *list(prefix: string): AsyncIterable<RepositoryObject> {
    assertKeyPrefix(prefix);
    const slash = prefix.lastIndexOf("/");
    const start = slash < 0 ? this.root : join(this.root, ...prefix.slice(0, slash).split("/"));
    for await (const path of walk(start, false)) {
      const key = relative(this.root, path).split(sep).join("/");
      if (!key.startsWith(prefix)) continue;
      const info = await stat(path).catch(() => undefined);
      if (info !== undefined) yield { key, size: info.size, lastModified: info.mtime };
    }
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    try {
      await unlink(path);
    } catch (error) {
      if (errorCode(error) !== "ENOENT") throw wrapIo(error, `delete ${key} from ${this.location}`);
    }
    await this.removeEmptyParents(dirname(path));
  }

  async sweepIncompleteUploads(olderThan: Date, under?: string): Promise<number> {
    let removed = 0;
    const top = under === undefined ? this.root : join(this.root, ...under.split("/").filter((part) => part !== ""));
    for await (const path of walk(top, true)) {
      if (!path.slice(path.lastIndexOf(sep) + 1).startsWith(STAGING_PREFIX)) continue;
      const info = await stat(path).catch(() => undefined);
      if (info === undefined || info.mtime >= olderThan) continue;
      await rm(path, { force: true });
      await this.removeEmptyParents(dirname(path));
      removed++;
    }
    return removed;
  }

  private pathOf(key: string): string {
    assertObjectKey(key);
    return join(this.root, ...key.split("/"));
  }

  private async writeAtomically(path: string, body: Buffer, durable: boolean): Promise<void> {
    const directory = dirname(path);
    const created = await mkdir(directory, { recursive: true, mode: 0o700 });
    if (created !== undefined) await syncNewDirectories(created, directory);
    const staging = join(directory, `${STAGING_PREFIX}${randomBytes(8).toString("hex")}`);
    const handle = await open(staging, "wx", 0o600);
    try {
      await handle.writeFile(body);
      if (durable) await handle.sync();
    } catch (error) {
      await handle.close();
      await rm(staging, { force: true });
      throw error;
    }
    await handle.close();
    try {
      await rename(staging, path);
    } catch (error) {
      await rm(staging, { force: true });
      throw error;
    }
    if (durable) await syncDirectory(directory);
  }

  private async removeEmptyParents(directory: string): Promise<void> {
    let current = directory;
    while (current !== this.root && current.startsWith(this.root + sep)) {
      try {
        await rmdir(current);
      } catch {
        return; // not empty, or already gone: either way the parents stay
      }
      current = dirname(current);
    }
  }
}

/** Files below `directory` (depth first); dot-names are skipped unless `includeHidden`. */
async function* walk(directory: string, includeHidden: boolean): AsyncIterable<string> {
  let entries;
  try {
    entries = await readdir(directory, { withFileTypes: true });
  } catch (error) {
    if (errorCode(error) === "ENOENT" || errorCode(error) === "ENOTDIR") return;
    throw error;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (!includeHidden && entry.name.startsWith(".")) continue;
    const path = join(directory, entry.name);
    if (entry.isDirectory()) yield* walk(path, includeHidden);
    else if (entry.isFile()) yield path;
  }
}

/** mkdir -p created `first` and everything below it down to `last`: make each new entry durable in its parent. */
async function syncNewDirectories(first: string, last: string): Promise<void> {
  let current = last;
  const parents: string[] = [];
  while (current.length >= first.length) {
    parents.push(dirname(current));
    if (current === first) break;
    current = dirname(current);
  }
  for (const parent of parents.reverse()) await syncDirectory(parent);
}

/** `work` on every item, at most FLUSH_PARALLELISM at once; rejects with the first failure after all settled. */
async function inParallel<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(FLUSH_PARALLELISM, items.length) }, worker));
  const failed = results.find((result) => result.status === "rejected");
  if (failed !== undefined) throw failed.reason;
}

function errorCode(error: unknown): string | undefined {
  return error instanceof Error && "code" in error && typeof error.code === "string" ? error.code : undefined;
}

function wrapIo(error: unknown, action: string): Error {
  if (error instanceof InvalidError || error instanceof NotFoundError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new UnavailableError(`cannot ${action}: ${detail}; check the disk and the directory's permissions`, { cause: error });
}
