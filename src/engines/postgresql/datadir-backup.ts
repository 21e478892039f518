/**
 * A base backup read from the data directory by the node agent itself, as pgBackRest does, instead of through
 * pg_basebackup's single stream: one session holds a temporary physical replication slot (reserving the WAL from
 * before the backup starts) and a non-exclusive backup (`pg_backup_start(label, fast)`); the agent walks the data
 * directory (datadir-walk.ts) with several reads in flight per file and writes the same ustar `base.tar` that
 * `pg_basebackup -Ft -X fetch` writes: the files, pg_control last, the `backup_label` (and `tablespace_map`) that
 * `pg_backup_stop` returns, and the WAL from the start to the stop segment, marked archived. The existing restore
 * unpacks it unchanged. The stream's attributes record where the backup starts (page-lsn.ts), so that the next
 * incremental backup takes blocks whose pages are all older than that from this one without hashing them; an
 * incremental also leaves small files unread whose size and times (or, for a relation, the WAL) say they did not
 * change since its parent (unread-files.ts).
 * Only on a primary, as a superuser, without tablespaces: `backupDataDirectory` says `false` otherwise, before it
 * writes anything, and the method falls back to pg_basebackup.
 * The session (slot, pg_backup_start/stop) stays with the caller; the walk, the WAL block map and the writes
 * (`archiveDataDirectory`) run in the sink's own process when it has one (`archiveInProcess`, ADR 0044).
 */
import { createHash, randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { access, open, readdir, readFile, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import type pg from "pg";
import { InvalidError, UnavailableError } from "../../errors/index.ts";
import { INITIALIZED_MARKER } from "../marker.ts";
import type { BackupContext, BackupParentStream, BackupSink } from "../types.ts";
import { sessionCall, withStartBegun, type DatadirJob, type DatadirSession, type Started, type Stopped } from "./datadir-job.ts";
import { CONTROL_FILE, walkDataDirectory, type WalkEntry } from "./datadir-walk.ts";
import { parseLsn } from "./lsn.ts";
import { basisAttributes, unchangedSince, type PageLsnBasis } from "./page-lsn.ts";
import { readExactly } from "./file-read.ts";
import { parentChunksOf, startWalRead, type ParentChunks, type WalSettings } from "./parent-chunks.ts";
import { tarEnd, tarFileWithContent, tarHeader, tarPadding } from "./tar-writer.ts";
import { STARTED_AT_ATTRIBUTE, unreadRule, UnreadFiles } from "./unread-files.ts";

/** Bytes per read: the writer's chunk size, so a large file's blocks arrive as whole chunks. */
const READ_SIZE = 4 * 1024 * 1024;
/** Reads of one file in flight at once. */
const READS_IN_FLIGHT = 3;
/**
 * Read buffers kept for reuse (those the writer gives back: blocks taken from the parent): one more than the reads in
 * flight. Each is 4 MiB of the backup process's peak; 8 of them left the process 8–16 MiB closer to its 256 MiB bound.
 */
const SPARE_BUFFERS = READS_IN_FLIGHT + 1;
/** pg_backup_start waits for a (fast) checkpoint: long on a busy server. */
const QUERY_TIMEOUT_MS = 30 * 60_000;

/** What the backup needs to know of the server before it starts. */
interface ServerFacts extends WalSettings {
  inRecovery: boolean;
  superuser: boolean;
}

/** Take a base backup of the instance into `sink` as `streamName`; false (nothing written) when this way cannot. */
export async function backupDataDirectory(context: BackupContext, sink: BackupSink, streamName: string): Promise<boolean> {
  const dataDirectory = context.instance.dataDirectory;
  if (!(await readable(dataDirectory)) || (await hasTablespaces(dataDirectory))) return false;
  // Loaded here, not at the top: the backup's own process runs `archiveDataDirectory` alone, without pg and its TLS.
  const { withSession } = await import("./session.ts");
  return withSession(context.instance.port, context.account, async (client) => {
    const facts = await serverFacts(client);
    if (facts.inRecovery || !facts.superuser) return false;
    await client.query("select pg_catalog.pg_create_physical_replication_slot($1, true, true)", [`holdfast_backup_${randomBytes(8).toString("hex")}`]);
    const { inRecovery: _inRecovery, superuser: _superuser, ...settings } = facts;
    const flushed = sink.parentAttributes?.(streamName) === undefined ? undefined : await flushedWal(client);
    const job: DatadirJob = { dataDirectory, facts: settings, ...(flushed === undefined ? {} : { flushed }) };
    // pg_backup_start begun now: its checkpoint runs while the archive's process starts (ADR 0044, 2026-12-07 afternoon).
    const session = withStartBegun({ start: () => startBackup(client), stop: () => stopBackup(client) });
    if (sink.archiveInProcess === undefined) await archiveDataDirectory(job, session, sink, streamName, context.signal);
    else await sink.archiveInProcess({ stream: streamName, archive: "postgresql-datadir", job, call: (name) => sessionCall(session, name) });
    return true;
  }, { queryTimeoutMs: QUERY_TIMEOUT_MS });
}

/**
 * The archive of a backup begun on `session`: the WAL since the parent read (an incremental; begun while
 * pg_backup_start's checkpoint runs), the data directory walked into `sink` as `streamName`, the label and WAL added
 * after `session.stop()`. In the caller's process, or in a process of its own given `job` as data.
 */
export async function archiveDataDirectory(job: DatadirJob, session: DatadirSession, sink: BackupSink, streamName: string, signal: AbortSignal): Promise<void> {
  const { dataDirectory, facts } = job;
  const early = job.flushed === undefined ? undefined : startWalRead(dataDirectory, sink.parentAttributes?.(streamName), facts, { timeline: job.flushed.timeline, written: parseLsn(job.flushed.lsn) });
  const started = await session.start();
  const basis = await basisOf(dataDirectory, facts, started);
  const buffers = new ReadBuffers();
  const parent: { view?: BackupParentStream } = {};
  const chunksOf = (): Promise<ParentChunks | undefined> => parentChunksOf({ dataDirectory, basis, parent: parent.view, settings: facts, early, checkpointMs: started.checkpointMs });
  const unreadOf = (chunks: ParentChunks | undefined): UnreadFiles | undefined => unreadFilesOf(basis, parent.view, chunks);
  const unreadFiles: { value?: UnreadFiles | undefined } = {};
  const tar = archive({ stop: () => session.stop(), dataDirectory, facts, started, signal, buffers, chunksOf, unreadOf, unreadFiles });
  // Every read is a fresh buffer: the writer may move it to a worker thread. With a page-LSN basis, the next
  // incremental judges the blocks of large files by their pages' LSNs, so they need no content MAC; in an
  // incremental, the WAL since the parent tells which of them need not be read at all.
  const lsnReuse = basis === undefined ? {} : {
    attributes: { ...basisAttributes(basis), [STARTED_AT_ATTRIBUTE]: String(started.startedAt) },
    unchangedSince: (parentAttributes: Readonly<Record<string, string>>) => unchangedSince(basis, parentAttributes),
    withParent: (view: BackupParentStream) => (parent.view = view),
    macPlacedChunks: false,
  };
  const handOver = { handsOver: true, recycle: (data: Buffer) => buffers.give(data) };
  await sink.writeStream(streamName, Readable.from(tar, { objectMode: false, highWaterMark: READ_SIZE }), { ...handOver, ...lsnReuse });
  unreadFiles.value?.report();
}

async function readable(directory: string): Promise<boolean> {
  try {
    await access(directory, constants.R_OK | constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function hasTablespaces(dataDirectory: string): Promise<boolean> {
  const entries = await readdir(join(dataDirectory, "pg_tblspc")).catch(() => []);
  return entries.length > 0;
}

async function serverFacts(client: pg.Client): Promise<ServerFacts> {
  const setting = (name: string): string => `(select setting from pg_catalog.pg_settings where name = '${name}')`;
  const result = await client.query<{ recovery: boolean; superuser: boolean; system: string; segment: string; fpw: string; block: string; relseg: string }>(
    `select pg_catalog.pg_is_in_recovery() as recovery,
            (select rolsuper from pg_catalog.pg_roles where rolname = current_user) as superuser,
            (select system_identifier::text from pg_catalog.pg_control_system()) as system,
            ${setting("wal_segment_size")} as segment, ${setting("full_page_writes")} as fpw,
            ${setting("block_size")} as block, ${setting("segment_size")} as relseg`,
  );
  const row = result.rows[0];
  const walSegmentSize = Number(row?.segment);
  if (row === undefined || !Number.isInteger(walSegmentSize) || walSegmentSize <= 0) throw new UnavailableError("the server did not tell its WAL segment size");
  const wal = { fullPageWrites: row.fpw === "on", blockSize: Number(row.block), relationSegmentBlocks: Number(row.relseg), walSegmentSize };
  return { inRecovery: row.recovery, superuser: row.superuser, systemIdentifier: row.system, ...wal };
}

/** For an incremental: what the server has flushed, up to which the WAL since the parent is read early. */
async function flushedWal(client: pg.Client): Promise<DatadirJob["flushed"]> {
  const result = await client.query<{ flushed: string; timeline: number }>("select pg_catalog.pg_current_wal_flush_lsn()::text as flushed, (select timeline_id from pg_catalog.pg_control_checkpoint()) as timeline");
  const row = result.rows[0];
  return row === undefined ? undefined : { timeline: row.timeline, lsn: row.flushed };
}

async function startBackup(client: pg.Client): Promise<Started> {
  const startedAt = Date.now();
  const begun = performance.now();
  const started = await client.query<{ lsn: string }>("select pg_catalog.pg_backup_start($1, true)::text as lsn", ["holdfast"]);
  const checkpointMs = performance.now() - begun;
  const checkpoint = await client.query<{ timeline: number }>("select timeline_id as timeline from pg_catalog.pg_control_checkpoint()");
  const startLsn = started.rows[0]?.lsn;
  const timeline = checkpoint.rows[0]?.timeline;
  if (startLsn === undefined || timeline === undefined) throw new UnavailableError("pg_backup_start returned no position");
  return { startLsn, timeline, checkpointMs, startedAt };
}

async function stopBackup(client: pg.Client): Promise<Stopped> {
  const stopped = await client.query<Stopped>("select lsn::text as lsn, labelfile, spcmapfile from pg_catalog.pg_backup_stop(false)");
  const stop = stopped.rows[0];
  if (stop === undefined) throw new UnavailableError("pg_backup_stop returned nothing");
  return stop;
}

/** The page-LSN basis of this backup, when the data directory carries Holdfast's marker (its incarnation). */
async function basisOf(dataDirectory: string, facts: WalSettings, started: Started): Promise<PageLsnBasis | undefined> {
  const marker = await readFile(join(dataDirectory, INITIALIZED_MARKER)).catch(() => undefined);
  if (marker === undefined) return undefined;
  const incarnation = createHash("sha256").update(marker).digest("hex").slice(0, 32);
  return { startLsn: started.startLsn, timeline: String(started.timeline), systemIdentifier: facts.systemIdentifier, incarnation };
}

/**
 * Buffers to read into: whole ones (each its own ArrayBuffer, so the writer may move it to a worker thread), reused
 * when the writer gives them back instead of leaving hundreds of megabytes to the garbage collector.
 */
class ReadBuffers {
  readonly #spare: Buffer[] = [];

  take(length: number): Buffer {
    return (length === READ_SIZE ? this.#spare.pop() : undefined) ?? Buffer.allocUnsafeSlow(length);
  }

  give(data: Buffer): void {
    const whole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
    if (whole && data.length === READ_SIZE && this.#spare.length < SPARE_BUFFERS && !this.#spare.includes(data)) this.#spare.push(data);
  }
}

interface ArchiveInput {
  buffers: ReadBuffers;
  stop: DatadirSession["stop"];
  dataDirectory: string;
  facts: WalSettings;
  started: Started;
  signal: AbortSignal;
  /** In an incremental: which chunks to take from the parent unread (asked once, before the walk). */
  chunksOf: () => Promise<ParentChunks | undefined>;
  /** In an incremental: which small files to leave unread (unread-files.ts), given the WAL map. */
  unreadOf: (chunks: ParentChunks | undefined) => UnreadFiles | undefined;
  /** Where the walk leaves what `unreadOf` gave, to note once the stream is stored. */
  unreadFiles: { value?: UnreadFiles | undefined };
}

/** The small files an incremental may leave unread: only against a parent of the same data directory and timeline. */
function unreadFilesOf(basis: PageLsnBasis | undefined, parent: BackupParentStream | undefined, chunks: ParentChunks | undefined): UnreadFiles | undefined {
  if (basis === undefined || parent === undefined || unchangedSince(basis, parent.attributes) === undefined) return undefined;
  const rule = unreadRule(parent.attributes, Date.now(), (path, size) => chunks?.unchangedFile(path, size) ?? false);
  return rule === undefined ? undefined : new UnreadFiles(rule, parent);
}

/** The whole tar: the data directory, pg_control, then (after pg_backup_stop) the label and the WAL. */
async function* archive(input: ArchiveInput): AsyncGenerator<Buffer> {
  const { dataDirectory, signal } = input;
  const parentChunks = await input.chunksOf();
  const unread = input.unreadOf(parentChunks);
  input.unreadFiles.value = unread;
  const walkStarted = performance.now();
  for await (const entry of walkDataDirectory(dataDirectory)) {
    if (signal.aborted) throw new UnavailableError("the backup was cancelled");
    const unreadMember = unread?.member(entry);
    if (unreadMember === undefined) yield* member(entry, input.buffers, parentChunks);
    else yield* unreadMember;
  }
  parentChunks?.report(performance.now() - walkStarted);
  yield* fileMember(CONTROL_FILE, join(dataDirectory, CONTROL_FILE), input.buffers);
  const stop = await input.stop();
  const now = Math.floor(Date.now() / 1000);
  yield tarFileWithContent("backup_label", Buffer.from(stop.labelfile, "utf8"), now);
  if (stop.spcmapfile !== null && stop.spcmapfile !== "") yield tarFileWithContent("tablespace_map", Buffer.from(stop.spcmapfile, "utf8"), now);
  yield* walMembers(input, stop.lsn, now);
  yield tarEnd();
}

/** The WAL segments from the start to the stop position (held by the slot), each marked archived, and the timeline histories. */
async function* walMembers(input: ArchiveInput, stopLsn: string, now: number): AsyncGenerator<Buffer> {
  const walDirectory = join(input.dataDirectory, "pg_wal");
  const segments = walSegmentNames(input.started.timeline, parseLsn(input.started.startLsn), parseLsn(stopLsn), input.facts.walSegmentSize);
  const histories = (await readdir(walDirectory)).filter((name) => /^[0-9A-F]{8}\.history$/.test(name)).sort();
  for (const name of [...histories, ...segments]) {
    const emitted = yield* fileMember(`pg_wal/${name}`, join(walDirectory, name), input.buffers);
    if (!emitted) throw new UnavailableError(`WAL file ${name}, which the backup needs, is missing from ${walDirectory}`);
  }
  for (const name of segments) yield tarFileWithContent(`pg_wal/archive_status/${name}.done`, Buffer.alloc(0), now);
}

/** Names of the WAL segments holding [start, stop) on `timeline` (the stop segment is the one before stop when stop starts a segment). */
export function walSegmentNames(timeline: number, start: bigint, stop: bigint, segmentSize: number): string[] {
  if (stop < start) throw new InvalidError("the backup stopped before it started");
  const size = BigInt(segmentSize);
  const perId = 0x1_0000_0000n / size;
  const first = start / size;
  const last = stop > start ? (stop - 1n) / size : first;
  const hex = (value: bigint | number): string => value.toString(16).toUpperCase().padStart(8, "0");
  const names: string[] = [];
  for (let segment = first; segment <= last; segment++) names.push(`${hex(timeline)}${hex(segment / perId)}${hex(segment % perId)}`);
  return names;
}

/** A walked entry as tar bytes: a directory or link header, or a file's header and data. */
async function* member(entry: WalkEntry, buffers: ReadBuffers, parentChunks: ParentChunks | undefined): AsyncGenerator<Buffer> {
  const { stats } = entry;
  const mtime = stats.mtimeMs / 1000;
  if (entry.kind === "directory") {
    const mode = stats.isSymbolicLink() ? 0o700 : stats.mode;
    yield tarHeader({ name: `${entry.path}/`, type: "directory", size: 0, mode, uid: stats.uid, gid: stats.gid, mtime });
  } else if (entry.kind === "symlink") {
    yield tarHeader({ name: entry.path, type: "symlink", size: 0, mode: 0o777, uid: stats.uid, gid: stats.gid, mtime, ...(entry.linkTarget === undefined ? {} : { linkTarget: entry.linkTarget }) });
  } else if (stats.size === 0) {
    // Nothing to read (many catalogs are empty): the listing's status, as pg_basebackup sends it, without an open.
    yield tarHeader({ name: entry.path, type: "file", size: 0, mode: stats.mode, uid: stats.uid, gid: stats.gid, mtime });
  } else {
    yield* fileMember(entry.path, entry.absolute, buffers, parentChunks);
  }
}

/**
 * A file's header and its size (as when opened) in bytes: zeros stand for what a concurrent truncation removed,
 * and what was appended after the open is left out (WAL replay from the start position restores both, as it does
 * for pg_basebackup). Returns false, writing nothing, when the file is gone.
 */
async function* fileMember(path: string, absolute: string, buffers: ReadBuffers, parentChunks?: ParentChunks): AsyncGenerator<Buffer, boolean> {
  let handle: FileHandle;
  try {
    handle = await open(absolute, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
  try {
    const stats = await handle.stat();
    yield tarHeader({ name: path, type: "file", size: stats.size, mode: stats.mode, uid: stats.uid, gid: stats.gid, mtime: stats.mtimeMs / 1000 });
    const placeholder = parentChunks === undefined ? undefined : (offset: number, length: number) => parentChunks.placeholderFor(path, offset, length);
    yield* fileData(handle, stats.size, buffers, placeholder);
    const padding = tarPadding(stats.size);
    if (padding.length > 0) yield padding;
    return true;
  } finally {
    await handle.close();
  }
}

/**
 * `size` bytes of an open file, in READ_SIZE pieces, with READS_IN_FLIGHT reads ahead; a piece `placeholder` gives
 * one for (an incremental's block the parent holds and the WAL did not change) is not read.
 */
async function* fileData(handle: FileHandle, size: number, buffers: ReadBuffers, placeholder?: (offset: number, length: number) => Buffer | undefined): AsyncGenerator<Buffer> {
  const pending: Array<Promise<Buffer>> = [];
  let next = 0;
  const issue = (): void => {
    while (pending.length < READS_IN_FLIGHT && next < size) {
      const length = Math.min(READ_SIZE, size - next);
      const parents = placeholder?.(next, length);
      const reading = parents === undefined ? readExactly(handle, next, buffers.take(length)) : Promise.resolve(parents);
      reading.catch(() => undefined);
      pending.push(reading);
      next += length;
    }
  };
  try {
    issue();
    for (let piece = pending.shift(); piece !== undefined; piece = pending.shift()) {
      const data = await piece;
      issue();
      yield data;
    }
  } finally {
    await Promise.allSettled(pending);
  }
}
