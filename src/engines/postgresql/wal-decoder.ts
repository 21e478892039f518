/**
 * Reads the PostgreSQL 15 WAL between two positions, segment by segment, and collects the blocks its records
 * reference (wal-record.ts), for an incremental backup that then reads only those (docs/adr/0044, "incremental from
 * a WAL block map"). Pure over buffers: the caller feeds whole segments in order. Every page header is checked
 * (magic, its own address — a recycled segment carries another —, timeline, and on a segment's first page the
 * system identifier, segment and page sizes), every record's `xl_prev` must be the previous record's start, and
 * records are stitched across pages from the continuation headers. Anything unexpected throws a WalFormatError;
 * records that make blocks impossible to trust throw a WalUntrustedError (a database or tablespace created or
 * dropped, full_page_writes or server parameters changed, the end of a recovery). SMGR create and truncate records
 * mark their relation untrusted (to be read whole).
 */
import { BLOCK_FIELDS, decodeRecord, recordLength, relFileNodeAt, RECORD_HEADER_SIZE, WalFormatError, WalRecord, type RelFileNode } from "./wal-record.ts";

/** WAL page size (XLOG_BLCKSZ; Holdfast's servers use the default). */
export const WAL_PAGE_SIZE = 8192;
const PAGE_MAGIC = 0xd110;
const SHORT_HEADER = 24;
const LONG_HEADER = 40;
const FIRST_IS_CONTRECORD = 0x0001;
const LONG_HEADER_FLAG = 0x0002;
const FIRST_IS_OVERWRITE_CONTRECORD = 0x0008;
/** Larger records are possible (logical messages) but not trusted: the backup then reads everything. */
const MAX_RECORD_LENGTH = 64 * 1024 * 1024;

const RM_XLOG = 0;
const RM_SMGR = 2;
const RM_DBASE = 4;
const RM_TBLSPC = 5;
const XLOG_SWITCH = 0x40;
/** XLOG records after which blocks cannot be judged: parameter change, full_page_writes change, end of recovery, overwritten contrecord. */
const XLOG_UNTRUSTED = new Map([
  [0x60, "server parameters changed (XLOG_PARAMETER_CHANGE)"],
  [0x80, "full_page_writes changed"],
  [0x90, "a recovery ended (timeline change)"],
  [0xd0, "a partial record was overwritten"],
]);
const SMGR_CREATE = 0x10;
const SMGR_TRUNCATE = 0x20;

/** The WAL can be read, but what it holds makes a block map unsafe. */
export class WalUntrustedError extends Error {
  readonly code = "WAL_UNTRUSTED";
}

/** What to read and what every page must say. */
export interface WalRange {
  timeline: number;
  segmentSize: number;
  systemIdentifier: bigint;
  /** A record's start (the parent backup's start): the first record read. */
  start: bigint;
  /** Records starting at or after this position are not read; undefined until known (`endAt`). */
  end?: bigint | undefined;
}

/** Blocks referenced by the records read, by `spc/db/rel/fork`, and relations created or truncated (`spc/db/rel`). */
export interface ChangedBlocks {
  blocks: Map<string, Set<number>>;
  untrusted: Set<string>;
  records: number;
}

/** The key of a relation's fork in `ChangedBlocks.blocks`. */
export function forkKey(relation: RelFileNode, fork: number): string {
  return `${relation.spc}/${relation.db}/${relation.rel}/${fork}`;
}

/** The key of a relation in `ChangedBlocks.untrusted`. */
export function relationKey(relation: RelFileNode): string {
  return `${relation.spc}/${relation.db}/${relation.rel}`;
}

/** A record that continues on the next page(s). */
interface PendingRecord {
  start: number;
  parts: Buffer[];
  missing: number;
  length: number;
}

/** A relation fork's set of changed blocks, kept at hand while records keep touching it. */
interface RecentFork {
  spc: number;
  db: number;
  rel: number;
  fork: number;
  blocks: Set<number>;
}

/** Forks kept at hand (a heap and its indexes, mostly). */
const RECENT_FORKS = 8;

interface PageHeader {
  size: number;
  continuation: boolean;
  remaining: number;
}

/** Feeds on whole segments in order (`segmentsOf` lists them) and collects changed blocks. */
export class WalDecoder {
  readonly #range: WalRange;
  readonly #segmentSize: number;
  /** Positions as numbers (exact below 2^53: 8 PiB of WAL), read once per record. */
  #end: number;
  readonly #changes: ChangedBlocks = { blocks: new Map(), untrusted: new Set(), records: 0 };
  /** The next byte to read. */
  #position: number;
  #pending: PendingRecord | undefined;
  #previousStart: number | undefined;
  /** Forks the last records touched, most recent first. */
  readonly #recent: RecentFork[] = [];
  /** The record being decoded (reused). */
  readonly #record = new WalRecord();

  constructor(range: WalRange) {
    if (range.segmentSize % WAL_PAGE_SIZE !== 0 || range.start > BigInt(Number.MAX_SAFE_INTEGER)) throw new WalFormatError("an impossible WAL range");
    this.#range = range;
    this.#segmentSize = range.segmentSize;
    this.#position = Number(range.start);
    this.#end = Number.POSITIVE_INFINITY;
    if (range.end !== undefined) this.endAt(range.end);
  }

  /** Set where reading ends (once): no record read so far may start at or after it. */
  endAt(end: bigint): void {
    if (this.#end !== Number.POSITIVE_INFINITY) throw new WalFormatError("the end of the WAL range is already set");
    const last = this.#previousStart ?? Number(this.#range.start);
    if (end < this.#range.start || end > BigInt(Number.MAX_SAFE_INTEGER) || (this.#previousStart !== undefined && last >= Number(end))) {
      throw new WalFormatError("an impossible WAL range");
    }
    this.#end = Number(end);
  }

  /** Every record starting before the end was read. */
  get done(): boolean {
    return this.#pending === undefined && this.#position >= this.#end;
  }

  /** The segment number the next `feed` must be given (undefined when done). */
  get nextSegment(): bigint | undefined {
    return this.done ? undefined : BigInt(Math.floor(this.#position / this.#segmentSize));
  }

  /**
   * Read segment `segment` (its whole file), or only its pages wholly before `written` (a position the server has
   * flushed: later pages may still change); the same segment is then fed again and read on from there. `data` is
   * not used after this returns.
   */
  feed(segment: bigint, data: Buffer, written = Number.POSITIVE_INFINITY): void {
    if (data.length !== this.#range.segmentSize) throw new WalFormatError(`WAL segment ${segment} is ${data.length} bytes, not ${this.#range.segmentSize}`);
    if (segment !== this.nextSegment) throw new WalFormatError(`WAL segment ${segment} is not the one the reader is at`);
    const base = Number(segment) * this.#segmentSize;
    for (let page = 0; page < data.length && !this.done && base + page + WAL_PAGE_SIZE <= written; page += WAL_PAGE_SIZE) {
      const pageStart = base + page;
      if (pageStart + WAL_PAGE_SIZE <= this.#position) continue;
      this.#page(data.subarray(page, page + WAL_PAGE_SIZE), pageStart);
    }
    // The caller may read the next segment into the same buffer: keep a copy of a record that continues there.
    if (this.#pending !== undefined) this.#pending.parts = this.#pending.parts.map((part) => Buffer.from(part));
  }

  /** The blocks found; only once done. */
  result(): ChangedBlocks {
    if (!this.done) throw new WalFormatError("the WAL ended before the backup's start position");
    return this.#changes;
  }

  #page(page: Buffer, pageStart: number): void {
    const header = this.#header(page, pageStart);
    if (this.#pending !== undefined) {
      if (!header.continuation || header.remaining !== this.#pending.missing) throw new WalFormatError(`the WAL page at ${pageStart} does not continue the record before it`);
      this.#take(page, header.size, pageStart);
    } else if (this.#position === pageStart) {
      if (header.continuation) throw new WalFormatError(`the WAL page at ${pageStart} continues a record that did not start`);
      this.#position = pageStart + header.size;
    } else if (this.#position < pageStart + header.size) {
      throw new WalFormatError("the WAL range starts inside a page header");
    }
    while (this.#pending === undefined && !this.done && this.#position < pageStart + WAL_PAGE_SIZE) {
      const at = this.#position - pageStart;
      const length = recordLength(page, at);
      this.#checkLength(length);
      if (at + length <= WAL_PAGE_SIZE) {
        // The whole record is on this page: decode it in place.
        const start = this.#position;
        this.#position = Math.ceil((start + length) / 8) * 8;
        this.#finish(start, page, at);
      } else {
        this.#pending = { start: this.#position, parts: [], missing: length, length };
        this.#take(page, at, pageStart);
      }
    }
  }

  #header(page: Buffer, pageStart: number): PageHeader {
    if (page.readUInt16LE(0) !== PAGE_MAGIC) throw new WalFormatError(`the WAL page at ${pageStart} has no PostgreSQL 15 magic`);
    if (page.readUInt32LE(12) * 0x1_0000_0000 + page.readUInt32LE(8) !== pageStart) throw new WalFormatError(`the WAL page at ${pageStart} carries another address (a recycled segment)`);
    if (page.readUInt32LE(4) !== this.#range.timeline) throw new WalFormatError(`the WAL page at ${pageStart} is of another timeline`);
    const info = page.readUInt16LE(2);
    if ((info & FIRST_IS_OVERWRITE_CONTRECORD) !== 0) throw new WalUntrustedError("a partial record was overwritten");
    const long = pageStart % this.#segmentSize === 0;
    if (long !== ((info & LONG_HEADER_FLAG) !== 0)) throw new WalFormatError(`the WAL page at ${pageStart} has the wrong header size`);
    if (long) this.#segmentHeader(page, pageStart);
    return { size: long ? LONG_HEADER : SHORT_HEADER, continuation: (info & FIRST_IS_CONTRECORD) !== 0, remaining: page.readUInt32LE(16) };
  }

  #segmentHeader(page: Buffer, pageStart: number): void {
    const same = page.readBigUInt64LE(24) === this.#range.systemIdentifier && page.readUInt32LE(32) === this.#range.segmentSize && page.readUInt32LE(36) === WAL_PAGE_SIZE;
    if (!same) throw new WalFormatError(`the WAL segment at ${pageStart} is of another system or layout`);
  }

  #checkLength(length: number): void {
    if (length < RECORD_HEADER_SIZE || length > MAX_RECORD_LENGTH) throw new WalFormatError(`a WAL record at ${this.#position} claims ${length} bytes`);
  }

  /** Take what the page holds of the pending record from `at`; finish it when complete. */
  #take(page: Buffer, at: number, pageStart: number): void {
    const pending = this.#pending;
    if (pending === undefined) return;
    const count = Math.min(pending.missing, WAL_PAGE_SIZE - at);
    pending.parts.push(page.subarray(at, at + count));
    pending.missing -= count;
    this.#position = pageStart + at + count;
    if (pending.missing > 0) return;
    this.#pending = undefined;
    this.#position = Math.ceil(this.#position / 8) * 8;
    this.#finish(pending.start, Buffer.concat(pending.parts, pending.length), 0);
  }

  /** Decode the record starting at WAL position `start`, held at `at` in `data`, and collect its blocks. */
  #finish(start: number, data: Buffer, at: number): void {
    const record = decodeRecord(data, at, this.#record);
    if (this.#previousStart !== undefined && record.prev !== this.#previousStart) throw new WalFormatError(`the WAL record at ${start} does not follow the one before it`);
    this.#previousStart = start;
    this.#changes.records++;
    this.#judge(record, data);
    const fields = record.blocks;
    for (let index = 0; index < record.blockCount * BLOCK_FIELDS; index += BLOCK_FIELDS) {
      this.#blocksOf(fields[index] ?? 0, fields[index + 1] ?? 0, fields[index + 2] ?? 0, fields[index + 3] ?? 0).add(fields[index + 4] ?? 0);
    }
    if (record.rmid === RM_XLOG && (record.info & 0xf0) === XLOG_SWITCH) {
      // The rest of the segment is unused: the next record starts the next one.
      this.#position = Math.ceil(this.#position / this.#segmentSize) * this.#segmentSize;
    }
  }

  /** The set of changed blocks of a relation fork. */
  #blocksOf(spc: number, db: number, rel: number, fork: number): Set<number> {
    for (const entry of this.#recent) if (entry.rel === rel && entry.db === db && entry.spc === spc && entry.fork === fork) return entry.blocks;
    const key = forkKey({ spc, db, rel }, fork);
    const blocks = this.#changes.blocks.get(key) ?? new Set<number>();
    this.#changes.blocks.set(key, blocks);
    this.#recent.unshift({ spc, db, rel, fork, blocks });
    if (this.#recent.length > RECENT_FORKS) this.#recent.pop();
    return blocks;
  }

  /** Records that make a map unsafe (thrown), and relations to read whole. */
  #judge(record: WalRecord, data: Buffer): void {
    const kind = record.info & 0xf0;
    if (record.rmid === RM_DBASE || record.rmid === RM_TBLSPC) throw new WalUntrustedError("a database or tablespace was created or dropped");
    const untrusted = record.rmid === RM_XLOG ? XLOG_UNTRUSTED.get(kind) : undefined;
    if (untrusted !== undefined) throw new WalUntrustedError(untrusted);
    if (record.rmid === RM_SMGR && (kind === SMGR_CREATE || kind === SMGR_TRUNCATE)) {
      const main = data.subarray(record.mainDataOffset, record.mainDataOffset + record.mainDataLength);
      this.#changes.untrusted.add(relationKey(relFileNodeAt(main, kind === SMGR_CREATE ? 0 : 4)));
    }
  }
}
