/**
 * The blocks changed between an incremental backup's parent and itself, from the WAL in the instance's pg_wal
 * (wal-decoder.ts reads it; this file opens the segments and answers "is this part of this file unchanged?").
 * No map (a reason instead) whenever the WAL cannot be read with certainty: a segment missing or recycled, a page or
 * record that does not check out, a record that makes blocks untrustworthy. The backup then reads every block.
 */
import { open, stat } from "node:fs/promises";
import { join } from "node:path";
import { isMainForkSegment, PAGE_SIZE } from "./page-lsn.ts";
import { forkKey, relationKey, WalDecoder, type ChangedBlocks, type WalRange } from "./wal-decoder.ts";
import { WalFormatError, type RelFileNode } from "./wal-record.ts";
import { WalUntrustedError } from "./wal-decoder.ts";

const DEFAULT_TABLESPACE = 1663;
const GLOBAL_TABLESPACE = 1664;
const MAIN_FORK = 0;

/** A map of changed blocks, or why there is none. */
export type BlockMapResult = { map: WalBlockMap; reason?: undefined } | { map?: undefined; reason: string };

/** Read the WAL of `range` from `walDirectory` (file names on `range.timeline`). */
export async function readWalBlockMap(walDirectory: string, range: WalRange & { end: bigint }, relationSegmentBlocks: number): Promise<BlockMapResult> {
  return new WalBlockMapReader(walDirectory, range, relationSegmentBlocks).finish(range.end);
}

/**
 * Reads the WAL from `range.start` in two steps: the segments known whole before the end is known (while the
 * backup's checkpoint runs), then up to the end. A refusal is kept: every later step returns it.
 */
export class WalBlockMapReader {
  readonly #directory: string;
  readonly #range: WalRange;
  readonly #segmentBlocks: number;
  readonly #decoder: WalDecoder | undefined;
  #buffer: Buffer | undefined;
  #refusal: string | undefined;

  constructor(walDirectory: string, range: WalRange, relationSegmentBlocks: number) {
    this.#directory = walDirectory;
    this.#range = { ...range, end: undefined };
    this.#segmentBlocks = relationSegmentBlocks;
    try {
      this.#decoder = new WalDecoder(this.#range);
    } catch (error) {
      this.#refusal = refusalOf(error);
    }
  }

  /** The timeline whose segments are read. */
  get timeline(): number {
    return this.#range.timeline;
  }

  /** Read the WAL pages wholly before `written` (a position the server has flushed). */
  async readBefore(written: bigint): Promise<void> {
    await this.#read(written);
  }

  /** Read every record starting before `end` (this backup's start) and give the map, or why there is none. */
  async finish(end: bigint): Promise<BlockMapResult> {
    try {
      this.#decoder?.endAt(end);
    } catch (error) {
      this.#refusal ??= refusalOf(error);
    }
    await this.#read();
    this.#buffer = undefined;
    const decoder = this.#decoder;
    if (this.#refusal !== undefined || decoder === undefined) return { reason: this.#refusal ?? "no WAL decoder" };
    return { map: new WalBlockMap(decoder.result(), this.#segmentBlocks) };
  }

  /** Open segment `segment` and give it to the decoder (its pages before `limit`), or note that it is gone. */
  async #feed(decoder: WalDecoder, segment: bigint, limit: number | undefined): Promise<void> {
    const name = walFileName(this.#range.timeline, segment, this.#range.segmentSize);
    this.#buffer ??= Buffer.allocUnsafeSlow(this.#range.segmentSize);
    const data = await readSegment(join(this.#directory, name), this.#buffer);
    if (data === undefined) this.#refusal = `WAL segment ${name} is no longer in pg_wal`;
    else decoder.feed(segment, data, limit);
  }

  /** Read on up to the end, or only the pages wholly before `written`. */
  async #read(written?: bigint): Promise<void> {
    const decoder = this.#decoder;
    if (decoder === undefined) return;
    const size = BigInt(this.#range.segmentSize);
    const last = written === undefined ? undefined : written / size;
    try {
      const limit = written === undefined ? undefined : Number(written);
      for (let segment = decoder.nextSegment; this.#refusal === undefined && segment !== undefined && segment <= (last ?? segment); segment = decoder.nextSegment) {
        await this.#feed(decoder, segment, limit);
        // Only part of the last segment is written yet: the rest is read once the end is known.
        if (segment === last) break;
      }
    } catch (error) {
      this.#refusal ??= refusalOf(error);
    }
  }
}

/** The reason a decoding error gives; other errors (I/O) are thrown on. */
function refusalOf(error: unknown): string {
  if (error instanceof WalFormatError || error instanceof WalUntrustedError) return error.message;
  throw error;
}

/**
 * A segment's bytes, read into `buffer` (one buffer for every segment: they are decoded one at a time), or
 * undefined when it is gone, short, or was recycled while being read: a checkpoint renames an old segment before
 * the server writes into it again, so a file still under its name after the read was not reused. (Content recycled
 * before the open carries other page addresses, which the decoder refuses.)
 */
async function readSegment(path: string, buffer: Buffer): Promise<Buffer | undefined> {
  const handle = await open(path).catch(() => undefined);
  if (handle === undefined) return undefined;
  try {
    let filled = 0;
    for (let read = -1; read !== 0 && filled < buffer.length; filled += read) {
      ({ bytesRead: read } = await handle.read(buffer, filled, buffer.length - filled, filled));
    }
    const [held, named] = await Promise.all([handle.stat(), stat(path).catch(() => undefined)]);
    const same = named !== undefined && named.ino === held.ino && named.dev === held.dev;
    return same && filled === buffer.length && held.size === buffer.length ? buffer : undefined;
  } finally {
    await handle.close();
  }
}

/** The WAL file name of segment number `segment`. */
export function walFileName(timeline: number, segment: bigint, segmentSize: number): string {
  const perId = 0x1_0000_0000n / BigInt(segmentSize);
  const hex = (value: bigint | number): string => value.toString(16).toUpperCase().padStart(8, "0");
  return `${hex(timeline)}${hex(segment / perId)}${hex(segment % perId)}`;
}

/** Changed blocks, asked by data-directory file and byte range. */
export class WalBlockMap {
  readonly changes: ChangedBlocks;
  readonly #segmentBlocks: number;

  constructor(changes: ChangedBlocks, relationSegmentBlocks: number) {
    this.changes = changes;
    this.#segmentBlocks = relationSegmentBlocks;
  }

  /** Blocks referenced, in all. */
  get blockCount(): number {
    let count = 0;
    for (const blocks of this.changes.blocks.values()) count += blocks.size;
    return count;
  }

  /**
   * True when bytes [offset, offset + length) of main-fork file `file` (`base/<db>/<rel>[.n]`, `global/<rel>[.n]`)
   * are whole pages none of which the WAL changed, in a relation neither created nor truncated since the parent.
   */
  unchanged(file: string, offset: number, length: number): boolean {
    const place = relationFile(file);
    if (place === undefined || length <= 0 || offset % PAGE_SIZE !== 0 || length % PAGE_SIZE !== 0) return false;
    if (this.changes.untrusted.has(relationKey(place.relation))) return false;
    const changed = this.changes.blocks.get(forkKey(place.relation, MAIN_FORK));
    if (changed === undefined) return true;
    const first = place.segment * this.#segmentBlocks + offset / PAGE_SIZE;
    for (let block = first; block < first + length / PAGE_SIZE; block++) if (changed.has(block)) return false;
    return true;
  }
}

/** The relation and segment number of a main-fork file (`base/<db>/<rel>[.n]`, `global/<rel>[.n]`). */
function relationFile(file: string): { relation: RelFileNode; segment: number } | undefined {
  if (!isMainForkSegment(file)) return undefined;
  const parts = file.split("/");
  const [name = "", segment = "0"] = (parts.at(-1) ?? "").split(".");
  const shared = parts[0] === "global";
  return { relation: { spc: shared ? GLOBAL_TABLESPACE : DEFAULT_TABLESPACE, db: shared ? 0 : Number(parts[1]), rel: Number(name) }, segment: Number(segment) };
}
