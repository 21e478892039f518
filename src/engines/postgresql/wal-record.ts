/**
 * One PostgreSQL 15 WAL record, decoded only as far as an incremental backup needs: its header (length, previous
 * record, resource manager, info) and the block references it makes (relation, fork, block number), plus its main
 * data. Layout (xlogrecord.h): a 24-byte XLogRecord, then block headers (id 0–32: fork and flags, data length, an
 * optional image header, the relation unless it is the previous block's, the block number), the origin (253) and
 * top-level xid (252) headers, and last the main data header (255 short, 254 long); then the blocks' data and the
 * main data. Pure over a buffer holding the whole record; any inconsistency throws a WalFormatError.
 */

/** Size of the fixed record header. */
export const RECORD_HEADER_SIZE = 24;

const MAX_BLOCK_ID = 32;
const ID_DATA_SHORT = 255;
const ID_DATA_LONG = 254;
const ID_ORIGIN = 253;
const ID_TOPLEVEL_XID = 252;
const FORK_MASK = 0x0f;
const HAS_IMAGE = 0x10;
const SAME_REL = 0x80;
const IMAGE_HAS_HOLE = 0x01;
/** Any of the PGLZ, LZ4 and zstd compression bits of an image. */
const IMAGE_COMPRESSED = 0x04 | 0x08 | 0x10;
const RELFILENODE_SIZE = 12;

/** The WAL cannot be read as expected; whoever reads it must give up on it. */
export class WalFormatError extends Error {
  readonly code = "WAL_FORMAT";
}

/** A relation's storage: tablespace, database and relfilenode OIDs. */
export interface RelFileNode {
  spc: number;
  db: number;
  rel: number;
}

/** One block a record references. */
export interface BlockReference extends RelFileNode {
  fork: number;
  block: number;
}

/** Fields per block in `WalRecord.blocks`: spc, db, rel, fork, block. */
export const BLOCK_FIELDS = 5;

/**
 * What the reader uses of a record, decoded in place into one reused object (this runs for every record, and
 * allocating per record costs more than the decoding).
 */
export class WalRecord {
  totalLength = 0;
  /** The previous record's start (exact below 2^53, which every real LSN is). */
  prev = 0;
  info = 0;
  rmid = 0;
  /** `blockCount` references, BLOCK_FIELDS numbers each. */
  readonly blocks = new Float64Array((MAX_BLOCK_ID + 1) * BLOCK_FIELDS);
  blockCount = 0;
  /** Where the main data starts in the buffer decoded, and its length. */
  mainDataOffset = 0;
  mainDataLength = 0;
  /** Reads the headers (reused as well). */
  readonly reader = new HeaderReader();

  /** Block reference `index` as an object (for tests and rare paths). */
  block(index: number): BlockReference {
    const at = index * BLOCK_FIELDS;
    const field = (offset: number): number => this.blocks[at + offset] ?? 0;
    return { spc: field(0), db: field(1), rel: field(2), fork: field(3), block: field(4) };
  }
}

/** The record's total length from its first four bytes. */
export function recordLength(data: Buffer, at: number): number {
  return data.readUInt32LE(at);
}

/** Decode the record at `start` of `data` (exactly `xl_tot_len` bytes from there) into `into` (a new one by default). */
export function decodeRecord(data: Buffer, start = 0, into = new WalRecord()): WalRecord {
  const length = recordLength(data, start);
  const end = start + length;
  if (length < RECORD_HEADER_SIZE || end > data.length) throw new WalFormatError("a WAL record's length does not match its header");
  const reader = into.reader.reset(data, start + RECORD_HEADER_SIZE, end);
  const mainLength = readHeaders(reader, into);
  into.totalLength = length;
  into.prev = data.readUInt32LE(start + 12) * 0x1_0000_0000 + data.readUInt32LE(start + 8);
  into.info = data[start + 16] ?? 0;
  into.rmid = data[start + 17] ?? 0;
  into.mainDataOffset = end - mainLength;
  into.mainDataLength = mainLength;
  return into;
}

/** The block, origin and xid headers, up to the main data header: blocks into `into`; returns the main data's length. */
function readHeaders(reader: HeaderReader, into: WalRecord): number {
  into.blockCount = 0;
  let dataTotal = 0;
  let mainLength = 0;
  let lastId = -1;
  while (reader.remaining > dataTotal) {
    const id = reader.u8();
    if (id === ID_DATA_SHORT || id === ID_DATA_LONG) {
      mainLength = id === ID_DATA_SHORT ? reader.u8() : reader.u32();
      dataTotal += mainLength;
      break;
    }
    if (id === ID_ORIGIN) reader.skip(2);
    else if (id === ID_TOPLEVEL_XID) reader.skip(4);
    else if (id <= MAX_BLOCK_ID && id > lastId) {
      lastId = id;
      dataTotal += blockHeader(reader, into);
    } else {
      throw new WalFormatError(`a WAL record has an unexpected block id ${id}`);
    }
  }
  if (reader.remaining !== dataTotal) throw new WalFormatError("a WAL record's headers do not add up to its length");
  return mainLength;
}

/** One block header, stored as the record's next block; returns how many data bytes (image and data) it adds. */
function blockHeader(reader: HeaderReader, into: WalRecord): number {
  const forkFlags = reader.u8();
  let dataLength = reader.u16();
  if ((forkFlags & HAS_IMAGE) !== 0) {
    dataLength += reader.u16();
    reader.skip(2);
    const imageInfo = reader.u8();
    if ((imageInfo & IMAGE_HAS_HOLE) !== 0 && (imageInfo & IMAGE_COMPRESSED) !== 0) reader.skip(2);
  }
  const blocks = into.blocks;
  const at = into.blockCount * BLOCK_FIELDS;
  if ((forkFlags & SAME_REL) !== 0) {
    if (into.blockCount === 0) throw new WalFormatError("a WAL record's first block refers to a previous relation");
    blocks.copyWithin(at, at - BLOCK_FIELDS, at - BLOCK_FIELDS + 3);
  } else {
    blocks[at] = reader.u32();
    blocks[at + 1] = reader.u32();
    blocks[at + 2] = reader.u32();
  }
  blocks[at + 3] = forkFlags & FORK_MASK;
  blocks[at + 4] = reader.u32();
  into.blockCount++;
  return dataLength;
}

/** A RelFileNode (three OIDs) at `at` in `data`. */
export function relFileNodeAt(data: Buffer, at: number): RelFileNode {
  if (data.length < at + RELFILENODE_SIZE) throw new WalFormatError("a WAL record is too short for the relation it names");
  return { spc: data.readUInt32LE(at), db: data.readUInt32LE(at + 4), rel: data.readUInt32LE(at + 8) };
}

/** Reads little-endian header fields in order, refusing to run past the record. */
class HeaderReader {
  #data: Buffer = Buffer.alloc(0);
  #end = 0;
  #at = 0;

  /** Read `data` from `at` up to `end`. */
  reset(data: Buffer, at: number, end: number): this {
    this.#data = data;
    this.#at = at;
    this.#end = end;
    return this;
  }

  get remaining(): number {
    return this.#end - this.#at;
  }

  skip(length: number): number {
    const from = this.#at;
    if (from + length > this.#end) throw new WalFormatError("a WAL record's headers run past its end");
    this.#at = from + length;
    return from;
  }

  u8(): number {
    return this.#data[this.skip(1)] ?? 0;
  }

  u16(): number {
    return this.#data.readUInt16LE(this.skip(2));
  }

  u32(): number {
    return this.#data.readUInt32LE(this.skip(4));
  }
}
