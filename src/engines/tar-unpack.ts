/**
 * Unpacks a tar stream into an empty directory in this process, instead of piping it to `tar -x`: members are parsed
 * as the bytes arrive and their data is written with positional writes, several files (and several parts of one
 * large file) at once, while the next bytes are decoded. A large file is fsynced when its last byte is written (the
 * kernel's own write-back has been at it meanwhile: fsyncs every 64 MiB made it slower, not faster, see ADR 0050);
 * small files are fsynced together once everything is
 * written (on ext4 each fsync of a newly created file commits the journal: interleaved with the creation of more
 * files, a thousand small fsyncs are a thousand commits, after it the first commit covers them all), then every
 * directory: once this resolves, what it wrote is durable. Memory is bounded by the data handed to writes not yet
 * finished.
 * Large files whose size is a multiple of 4 KiB (PostgreSQL's relation files) are written with O_DIRECT, from a few
 * page-aligned slabs reused for the whole unpack: their bytes never pass through the page cache. Filling the page
 * cache is what a buffered restore spends most of its CPU on (every page of it newly allocated: 2.2–2.6 s of system
 * time per 800 MiB on the 2-core machine of ADR 0050, against 0.1 s from the slabs); the restored server reads back
 * only what it uses. A filesystem that refuses O_DIRECT (EINVAL at the open) gets the same writes buffered.
 * Names are checked (tar-member.ts): nothing is written outside the directory.
 */
import { constants } from "node:fs";
import { lchown, lstat, mkdir, open, symlink, type FileHandle } from "node:fs/promises";
import { dirname, join } from "node:path";
import { LinkGuard, parseTarHeader, TAR_BLOCK, UnsafeArchiveError, type TarMember } from "./tar-member.ts";

/** Files at least this large are fsynced as they are written; smaller ones in the final batch. */
const LARGE_FILE = 8 * 1024 * 1024;
/** O_DIRECT's unit here: memory, file offsets and lengths are multiples of it (a page; any block device's sector divides it). */
const DIRECT_ALIGN = 4096;
/** Regular files at least this large, with a size that is a multiple of DIRECT_ALIGN, are written with O_DIRECT. */
const DIRECT_AT_LEAST = 64 * 1024;
/** The slabs O_DIRECT writes are made from: their size (a multiple of DIRECT_ALIGN) and how many (the writes in flight). */
const SLAB_BYTES = 1024 * 1024;
const SLABS = 16;
/** WebAssembly's page: its memory is page-aligned, which a Buffer from the allocator is not. */
const WASM_PAGE = 64 * 1024;

/** The one part of WebAssembly used here (the project's type libraries do not declare it). */
declare const WebAssembly: { Memory: new (descriptor: { initial: number; maximum: number }) => { readonly buffer: ArrayBuffer } };
/** fsyncs at once while writing: they hold libuv's threads (4), which the writes and the repository's reads need too. */
const SYNCS_AT_ONCE = 2;
/** fsyncs at once in the final batch, when nothing else is left to do (the backup writer's flush does 16 too). */
const FINAL_SYNCS_AT_ONCE = 16;
const DEFAULT_BYTES_IN_FLIGHT = 32 * 1024 * 1024;

/** Who owns what is written, when this process may give files away (root). */
export interface FileOwner {
  uid: number;
  gid: number;
}

/** How to unpack. */
export interface UnpackOptions {
  owner?: FileOwner | undefined;
  /** Base names never written, at any depth (their data is skipped). */
  excluded: ReadonlySet<string>;
  signal?: AbortSignal | undefined;
  /** Data handed to writes not yet finished, at most (default 32 MiB). */
  maxBytesInFlight?: number;
  /**
   * Called with each piece of the stream once every write of its bytes has settled: nothing of this unpack reads it
   * any more, so the caller may release its memory at once instead of leaving it to the garbage collector.
   */
  onWritten?: ((data: Buffer) => void) | undefined;
}

/** What was written. */
export interface UnpackSummary {
  files: number;
  directories: number;
  bytes: number;
}

/** Runs at most `size` fsyncs at once; once cancelled (a failed unpack), those not yet started are skipped. */
class SyncLimiter {
  readonly #size: number;
  readonly #waiting: Array<() => void> = [];
  #running = 0;
  #cancelled = false;

  constructor(size: number) {
    this.#size = size;
  }

  /** The data is being thrown away: an fsync would only make a cancel wait for the disk. */
  cancel(): void {
    this.#cancelled = true;
  }

  async run(task: () => Promise<void>): Promise<void> {
    if (this.#running >= this.#size) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#running++;
    try {
      if (!this.#cancelled) await task();
    } finally {
      this.#running--;
      this.#waiting.shift()?.();
    }
  }
}

/** Bytes handed to writes not yet finished; `room` waits until they are under the bound. */
class InFlight {
  readonly #limit: number;
  #bytes = 0;
  #wake: (() => void) | undefined;

  constructor(limit: number) {
    this.#limit = limit;
  }

  track(bytes: number, write: Promise<void>): void {
    this.#bytes += bytes;
    const settle = (): void => {
      this.#bytes -= bytes;
      if (this.#bytes <= this.#limit) this.#wake?.();
    };
    write.then(settle, settle);
  }

  async room(): Promise<void> {
    while (this.#bytes > this.#limit) await new Promise<void>((resolve) => (this.#wake = resolve));
    this.#wake = undefined;
  }
}

/** What the unpack writes one regular file's data through. */
interface MemberWriter {
  readonly path: string;
  /** Take the file's next bytes; resolves once `data` is no longer needed (written, or copied into a slab). */
  write(data: Buffer): Promise<void>;
  /** Every byte written, a large file fsynced, closed: resolves to whether the file still needs an fsync (a small one). */
  finish(): Promise<boolean>;
  /** A failed unpack: let the writes settle and close without syncing. */
  abandon(): Promise<void>;
}

/** One file being written: positional writes in parallel, an fsync at its end when it is large, then closed. */
class FileWriter implements MemberWriter {
  readonly path: string;
  readonly #opened: Promise<FileHandle>;
  readonly #pending = new Set<Promise<void>>();
  readonly #syncs: SyncLimiter;
  #position = 0;

  constructor(path: string, mode: number, owner: FileOwner | undefined, syncs: SyncLimiter) {
    this.path = path;
    this.#syncs = syncs;
    this.#opened = ownedBy(open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode), owner);
  }

  /** Write `data` at the next position; resolves when it is written. */
  write(data: Buffer): Promise<void> {
    const position = this.#position;
    this.#position += data.length;
    const written = this.#opened.then((handle) => writeFully(handle, data, position));
    this.#pending.add(written);
    written.then(() => this.#pending.delete(written), () => undefined);
    return written;
  }

  finish(): Promise<boolean> {
    return closeWritten(this.#opened, this.#pending, this.#position, this.#syncs);
  }

  abandon(): Promise<void> {
    return abandonWritten(this.#opened, this.#pending);
  }
}

/** `opening`, then given to `owner` (closed again when that fails). Its failure reaches the writes, finish or abandon. */
function ownedBy(opening: Promise<FileHandle>, owner: FileOwner | undefined): Promise<FileHandle> {
  const opened = opening.then(async (handle) => {
    if (owner !== undefined) await handle.chown(owner.uid, owner.gid).catch(async (error: unknown) => { await handle.close(); throw error; });
    return handle;
  });
  // Reached by the writes, finish or abandon, which may come only with the next bytes of the stream.
  opened.catch(() => undefined);
  return opened;
}

/** Wait for every write, fsync a file of `size` bytes when large, close; resolves to whether it still needs an fsync (a small one). */
async function closeWritten(opened: Promise<FileHandle>, pending: ReadonlySet<Promise<void>>, size: number, syncs: SyncLimiter): Promise<boolean> {
  const handle = await opened;
  try {
    await Promise.all(pending);
    if (size < LARGE_FILE) return size > 0;
    await syncs.run(() => handle.sync());
    return false;
  } finally {
    await handle.close();
  }
}

/**
 * A failed unpack: wait for the writes in flight, then close without syncing. An fsync already under way cannot be
 * interrupted and a close waits for it, so the close ends in the background: the caller removes the file meanwhile.
 */
async function abandonWritten(opened: Promise<FileHandle>, pending: ReadonlySet<Promise<void>>): Promise<void> {
  await Promise.allSettled([...pending]);
  opened.then((handle) => handle.close()).catch(() => undefined);
}

async function writeFully(handle: FileHandle, data: Buffer, position: number, length = data.length): Promise<void> {
  for (let offset = 0; offset < length; ) {
    const { bytesWritten } = await handle.write(data, offset, length - offset, position + offset);
    offset += bytesWritten;
  }
}

/** Page-aligned memory for O_DIRECT writes, lent one slab at a time; a borrower waits while every slab is out. */
class AlignedSlabs {
  readonly #free: Buffer[];
  readonly #waiting: Array<(slab: Buffer) => void> = [];

  constructor(count: number, bytes: number) {
    const memory = new WebAssembly.Memory({ initial: (count * bytes) / WASM_PAGE, maximum: (count * bytes) / WASM_PAGE });
    this.#free = Array.from({ length: count }, (_, index) => Buffer.from(memory.buffer, index * bytes, bytes));
  }

  take(): Promise<Buffer> {
    const slab = this.#free.pop();
    return slab === undefined ? new Promise((resolve) => this.#waiting.push(resolve)) : Promise.resolve(slab);
  }

  give(slab: Buffer): void {
    const next = this.#waiting.shift();
    if (next === undefined) this.#free.push(slab);
    else next(slab);
  }
}

/**
 * Open a new file for writing with O_DIRECT, or without it where the filesystem refuses it (EINVAL: tmpfs before
 * Linux 6.6). `openFile` is fs/promises' open but in tests.
 */
export async function openDirect(path: string, mode: number, openFile: typeof open = open): Promise<FileHandle> {
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  try {
    return await openFile(path, flags | constants.O_DIRECT, mode);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EINVAL") throw error;
    return openFile(path, flags, mode);
  }
}

/**
 * One large file written with O_DIRECT: its bytes are copied, in order, into slabs at aligned places of the file, and
 * each full slab (the last one: what is left, a multiple of DIRECT_ALIGN as the file's size is) is written while the
 * next fills. The data handed in is free again once copied.
 */
class DirectFileWriter implements MemberWriter {
  readonly path: string;
  readonly #opened: Promise<FileHandle>;
  readonly #slabs: AlignedSlabs;
  readonly #syncs: SyncLimiter;
  readonly #pending = new Set<Promise<void>>();
  /** The copies in order: each write's copy begins when the one before it has ended. */
  #copying: Promise<void> = Promise.resolve();
  #slab: Buffer | undefined;
  #filled = 0;
  #slabPosition = 0;
  #position = 0;

  constructor(path: string, mode: number, owner: FileOwner | undefined, slabs: AlignedSlabs, syncs: SyncLimiter) {
    this.path = path;
    this.#slabs = slabs;
    this.#syncs = syncs;
    this.#opened = ownedBy(openDirect(path, mode), owner);
  }

  write(data: Buffer): Promise<void> {
    const copied = this.#copying.then(() => this.#copyIn(data));
    this.#copying = copied;
    return copied;
  }

  async finish(): Promise<boolean> {
    await this.#copying;
    if (this.#slab !== undefined && this.#filled > 0) this.#submit();
    return closeWritten(this.#opened, this.#pending, this.#position, this.#syncs);
  }

  async abandon(): Promise<void> {
    await this.#copying.catch(() => undefined);
    if (this.#slab !== undefined) this.#slabs.give(this.#slab);
    this.#slab = undefined;
    await abandonWritten(this.#opened, this.#pending);
  }

  async #copyIn(data: Buffer): Promise<void> {
    for (let at = 0; at < data.length; ) {
      if (this.#slab === undefined) {
        this.#slab = await this.#slabs.take();
        this.#filled = 0;
        this.#slabPosition = this.#position;
      }
      const copied = data.copy(this.#slab, this.#filled, at, Math.min(data.length, at + this.#slab.length - this.#filled));
      this.#filled += copied;
      this.#position += copied;
      at += copied;
      if (this.#filled === this.#slab.length) this.#submit();
    }
  }

  /** Write the slab being filled at its place, and give it back once written (or failed). */
  #submit(): void {
    const slab = this.#slab;
    if (slab === undefined) return;
    const [length, position] = [this.#filled, this.#slabPosition];
    this.#slab = undefined;
    const written = this.#opened.then((handle) => writeFully(handle, slab, position, length));
    const settled = written.finally(() => this.#slabs.give(slab));
    this.#pending.add(settled);
    settled.then(() => this.#pending.delete(settled), () => undefined);
  }
}

/** Where the parser is: in a header, in a member's data (written or skipped), in padding, or past the end. */
type ParseState = { kind: "header"; filled: number } | { kind: "data"; member: TarMember; remaining: number; writer: MemberWriter | undefined } | { kind: "padding"; remaining: number } | { kind: "end" };

/** One unpack into `directory`. */
class TarUnpacker {
  readonly #directory: string;
  readonly #options: UnpackOptions;
  readonly #header = Buffer.alloc(TAR_BLOCK);
  readonly #links = new LinkGuard();
  readonly #directories = new Set<string>([""]);
  readonly #members = new Set<string>();
  readonly #writers: MemberWriter[] = [];
  /** The slabs of the files written with O_DIRECT, made with the first one. */
  #slabs: AlignedSlabs | undefined;
  readonly #finishing: Array<Promise<void>> = [];
  /** Small files written and closed, to be fsynced in the final batch. */
  readonly #unsynced: string[] = [];
  readonly #syncs = new SyncLimiter(SYNCS_AT_ONCE);
  readonly #inFlight: InFlight;
  #state: ParseState = { kind: "header", filled: 0 };
  /** Writes of the piece being taken. */
  #pieceWrites: Array<Promise<void>> = [];
  #offset = 0;
  #failure: Error | undefined;
  readonly summary: UnpackSummary = { files: 0, directories: 0, bytes: 0 };

  constructor(directory: string, options: UnpackOptions) {
    this.#directory = directory;
    this.#options = options;
    this.#inFlight = new InFlight(options.maxBytesInFlight ?? DEFAULT_BYTES_IN_FLIGHT);
  }

  /** Take the next bytes of the stream. */
  async take(data: Buffer): Promise<void> {
    this.#pieceWrites = [];
    for (let at = 0; at < data.length; ) {
      if (this.#failure !== undefined) throw this.#failure;
      const used = await this.#step(data.subarray(at));
      at += used;
      this.#offset += used;
    }
    const written = this.#options.onWritten;
    if (written !== undefined) void Promise.allSettled(this.#pieceWrites).then(() => written(data));
    await this.#inFlight.room();
  }

  /** The stream ended: wait for every file, then make the directories durable. */
  async end(): Promise<void> {
    if (this.#state.kind !== "end") throw new UnsafeArchiveError(this.#truncation());
    await Promise.all(this.#finishing);
    if (this.#failure !== undefined) throw this.#failure;
    const batch = new SyncLimiter(FINAL_SYNCS_AT_ONCE);
    await Promise.all(this.#unsynced.map((path) => batch.run(() => syncPath(path))));
    await Promise.all([...this.#directories].map((path) => batch.run(() => syncPath(join(this.#directory, path)))));
  }

  /** After a failure: skip the fsyncs not yet started, let every write settle and close every file (fsyncs under way end in the background). */
  async abandon(): Promise<void> {
    this.#syncs.cancel();
    await Promise.allSettled(this.#writers.map((writer) => writer.abandon()));
  }

  async #step(data: Buffer): Promise<number> {
    const state = this.#state;
    switch (state.kind) {
      case "header":
        return this.#readHeader(state, data);
      case "data":
        return this.#readData(state, data);
      case "padding": {
        const used = Math.min(state.remaining, data.length);
        this.#state = state.remaining === used ? { kind: "header", filled: 0 } : { kind: "padding", remaining: state.remaining - used };
        return used;
      }
      case "end":
        return data.length;
    }
  }

  async #readHeader(state: { filled: number }, data: Buffer): Promise<number> {
    const used = Math.min(TAR_BLOCK - state.filled, data.length);
    data.copy(this.#header, state.filled, 0, used);
    if (state.filled + used < TAR_BLOCK) {
      this.#state = { kind: "header", filled: state.filled + used };
      return used;
    }
    const member = parseTarHeader(this.#header, this.#offset + used - TAR_BLOCK);
    if (member === "end") this.#state = { kind: "end" };
    else await this.#begin(member);
    return used;
  }

  async #begin(member: TarMember): Promise<void> {
    this.#links.admit(member);
    if (this.#members.has(member.path) && member.type !== "directory") throw new UnsafeArchiveError(`member "${member.path}" appears twice in the archive; a restore refuses it`);
    this.#members.add(member.path);
    const excluded = this.#options.excluded.has(member.path.split("/").at(-1) ?? "");
    const writer = excluded ? undefined : await this.#create(member);
    this.#state = member.size > 0 ? { kind: "data", member, remaining: member.size, writer } : { kind: "header", filled: 0 };
    if (member.size === 0 && writer !== undefined) this.#finish(writer);
  }

  async #create(member: TarMember): Promise<MemberWriter | undefined> {
    await this.#ensureDirectory(dirname(member.path) === "." ? "" : dirname(member.path));
    const path = join(this.#directory, member.path);
    if (member.type === "directory") {
      await this.#ensureDirectory(member.path, (member.mode & 0o750) | 0o700);
      return undefined;
    }
    if (member.type === "symlink") {
      await symlink(member.linkTarget, path);
      if (this.#options.owner !== undefined) await lchown(path, this.#options.owner.uid, this.#options.owner.gid);
      return undefined;
    }
    const mode = (member.mode & 0o640) | 0o600;
    const direct = member.size >= DIRECT_AT_LEAST && member.size % DIRECT_ALIGN === 0;
    const writer = direct ? new DirectFileWriter(path, mode, this.#options.owner, (this.#slabs ??= new AlignedSlabs(SLABS, SLAB_BYTES)), this.#syncs) : new FileWriter(path, mode, this.#options.owner, this.#syncs);
    this.#writers.push(writer);
    this.summary.files++;
    return writer;
  }

  #readData(state: Extract<ParseState, { kind: "data" }>, data: Buffer): number {
    const used = Math.min(state.remaining, data.length);
    if (state.writer !== undefined) {
      const write = state.writer.write(data.subarray(0, used));
      this.#pieceWrites.push(write);
      this.#inFlight.track(used, write.catch((error: unknown) => this.#fail(error)));
      this.summary.bytes += used;
    }
    const remaining = state.remaining - used;
    if (remaining > 0) {
      this.#state = { ...state, remaining };
      return used;
    }
    if (state.writer !== undefined) this.#finish(state.writer);
    const padding = (TAR_BLOCK - (state.member.size % TAR_BLOCK)) % TAR_BLOCK;
    this.#state = padding > 0 ? { kind: "padding", remaining: padding } : { kind: "header", filled: 0 };
    return used;
  }

  #finish(writer: MemberWriter): void {
    const finished = writer.finish().then((unsynced) => {
      if (unsynced) this.#unsynced.push(writer.path);
    });
    this.#finishing.push(finished.catch((error: unknown) => this.#fail(error)));
  }

  #fail(error: unknown): void {
    this.#failure ??= error instanceof Error ? error : new Error(String(error));
    this.#syncs.cancel();
  }

  /** Create `path` (relative) and its missing parents, owned by the owner; an existing directory is kept. */
  async #ensureDirectory(path: string, mode = 0o700): Promise<void> {
    if (this.#directories.has(path)) return;
    const parent = dirname(path);
    await this.#ensureDirectory(parent === "." ? "" : parent);
    const absolute = join(this.#directory, path);
    try {
      await mkdir(absolute, { mode });
    } catch (error) {
      if (!(await lstat(absolute).catch(() => undefined))?.isDirectory()) throw error;
    }
    if (this.#options.owner !== undefined) await lchown(absolute, this.#options.owner.uid, this.#options.owner.gid);
    this.#directories.add(path);
    this.summary.directories++;
  }

  #truncation(): string {
    const state = this.#state;
    if (state.kind === "data") return `the archive ends ${state.remaining} bytes before the end of member "${state.member.path}": it is truncated`;
    return "the archive ends without its end-of-archive block: it is truncated";
  }
}

/** fsync a file or directory this unpack created (through a read-only descriptor, as Linux allows). */
async function syncPath(path: string): Promise<void> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Unpack the tar `input` into the empty `directory`; resolves once everything written is durable. A member that
 * would land outside it is refused with an UnsafeArchiveError naming it; on any failure what was written stays
 * (the caller empties the directory).
 */
export async function unpackTar(input: AsyncIterable<Buffer>, directory: string, options: UnpackOptions): Promise<UnpackSummary> {
  const unpacker = new TarUnpacker(directory, options);
  try {
    for await (const data of input) {
      options.signal?.throwIfAborted();
      await unpacker.take(data);
    }
    options.signal?.throwIfAborted();
    await unpacker.end();
  } catch (error) {
    await unpacker.abandon();
    throw error;
  }
  return unpacker.summary;
}
