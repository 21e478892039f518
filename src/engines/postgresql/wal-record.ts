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

/** What the reader uses of a record. */
export interface WalRecord {
  totalLength: number;
  prev: bigint;
  info: number;
  rmid: number;
  blocks: BlockReference[];
  mainData: Buffer;
}

/** The record's total length from its first four bytes. */
export function recordLength(data: Buffer, at: number): number {
  return data.readUInt32LE(at);
}

/** Decode a whole record (`data` is exactly `xl_tot_len` bytes). */
export function decodeRecord(data: Buffer): WalRecord {
  if (data.length < RECORD_HEADER_SIZE || recordLength(data, 0) !== data.length) throw new WalFormatError("a WAL record's length does not match its header");
  const cursor = new Cursor(data, RECORD_HEADER_SIZE);
  const blocks: BlockReference[] = [];
  let dataTotal = 0;
  let mainLength = 0;
  let lastId = -1;
  while (cursor.remaining > dataTotal) {
    const id = cursor.u8();
    if (id === ID_DATA_SHORT || id === ID_DATA_LONG) {
      mainLength = id === ID_DATA_SHORT ? cursor.u8() : cursor.u32();
      dataTotal += mainLength;
      break;
    }
    if (id === ID_ORIGIN) cursor.skip(2);
    else if (id === ID_TOPLEVEL_XID) cursor.skip(4);
    else if (id <= MAX_BLOCK_ID && id > lastId) {
      lastId = id;
      const block = blockHeader(cursor, blocks.at(-1));
      blocks.push(block.reference);
      dataTotal += block.dataLength;
    } else {
      throw new WalFormatError(`a WAL record has an unexpected block id ${id}`);
    }
  }
  if (cursor.remaining !== dataTotal) throw new WalFormatError("a WAL record's headers do not add up to its length");
  return {
    totalLength: data.length,
    prev: data.readBigUInt64LE(8),
    info: data.readUInt8(16),
    rmid: data.readUInt8(17),
    blocks,
    mainData: data.subarray(data.length - mainLength),
  };
}

/** One block header: the reference and how many data bytes (image and data) it adds after the headers. */
function blockHeader(cursor: Cursor, previous: BlockReference | undefined): { reference: BlockReference; dataLength: number } {
  const forkFlags = cursor.u8();
  let dataLength = cursor.u16();
  if ((forkFlags & HAS_IMAGE) !== 0) {
    const imageLength = cursor.u16();
    cursor.skip(2);
    const imageInfo = cursor.u8();
    if ((imageInfo & IMAGE_HAS_HOLE) !== 0 && (imageInfo & IMAGE_COMPRESSED) !== 0) cursor.skip(2);
    dataLength += imageLength;
  }
  let relation: RelFileNode;
  if ((forkFlags & SAME_REL) !== 0) {
    if (previous === undefined) throw new WalFormatError("a WAL record's first block refers to a previous relation");
    relation = { spc: previous.spc, db: previous.db, rel: previous.rel };
  } else {
    relation = relFileNodeAt(cursor.take(RELFILENODE_SIZE), 0);
  }
  const block = cursor.u32();
  return { reference: { ...relation, fork: forkFlags & FORK_MASK, block }, dataLength };
}

/** A RelFileNode (three OIDs) at `at` in `data`. */
export function relFileNodeAt(data: Buffer, at: number): RelFileNode {
  if (data.length < at + RELFILENODE_SIZE) throw new WalFormatError("a WAL record is too short for the relation it names");
  return { spc: data.readUInt32LE(at), db: data.readUInt32LE(at + 4), rel: data.readUInt32LE(at + 8) };
}

/** Reads little-endian fields in order, refusing to run past the record's headers. */
class Cursor {
  readonly #data: Buffer;
  #at: number;

  constructor(data: Buffer, at: number) {
    this.#data = data;
    this.#at = at;
  }

  get remaining(): number {
    return this.#data.length - this.#at;
  }

  take(length: number): Buffer {
    if (length > this.remaining) throw new WalFormatError("a WAL record's headers run past its end");
    const part = this.#data.subarray(this.#at, this.#at + length);
    this.#at += length;
    return part;
  }

  skip(length: number): void {
    this.take(length);
  }

  u8(): number {
    return this.take(1).readUInt8(0);
  }

  u16(): number {
    return this.take(2).readUInt16LE(0);
  }

  u32(): number {
    return this.take(4).readUInt32LE(0);
  }
}
