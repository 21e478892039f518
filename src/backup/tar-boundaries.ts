/**
 * Where to cut a tar stream into chunks so that content unchanged between two backups is cut the same way: at the
 * start and the end of every large member. A fixed-size cut of the whole stream would shift every later chunk when
 * one earlier file grows by a byte, and an incremental backup would then find nothing to reuse; cut like this, a
 * large file (a PostgreSQL relation segment) is chunked from its own start, so only its changed parts differ.
 * A large member's header is a chunk of its own (its mtime changes when the file does), so the member's data is cut
 * at the same file offsets in every backup, and each such chunk is known by member name and offset: an incremental
 * backup may then reuse a block of a file its method vouches is unchanged (backup-writer.ts, `unchangedSince`).
 * Otherwise only an optimisation: reuse is decided by content MAC (incremental-base.ts), so a stream that is not a
 * tar, or a tar this parser does not understand, is simply cut at fixed sizes.
 */

const BLOCK = 512;
const SIZE_OFFSET = 124;
const SIZE_LENGTH = 12;
const MAGIC_OFFSET = 257;
const NAME_LENGTH = 100;
const PREFIX_OFFSET = 345;
const PREFIX_LENGTH = 155;
/**
 * Runs of small members are also cut before each member whose name hashes to 0 modulo this (about one in 32, so
 * chunks of ~1 MiB of catalog files): cut points follow names, not offsets, so a file that changed or grew only
 * changes its own piece of the run, not every chunk after it.
 */
const NAME_CUT_MODULUS = 32;

/** Where a chunk lies in a large tar member's data: the member's name and the file offset of its first byte. */
export interface MemberPlace {
  member: string;
  offset: number;
}

/**
 * What a chunk outside large members' data holds, told by the tar headers alone: with each member's data known to
 * be what an earlier backup read, two chunks with the same layout (and size) hold the same bytes.
 */
export interface ChunkLayout {
  /** Bytes from the first member's header to the chunk's first byte. */
  skew: number;
  /** The 512-byte header of every member the chunk overlaps, in stream order. */
  headers: Buffer[];
  /** How many of the chunk's bytes are member data (the rest are headers and padding). */
  dataBytes: number;
}

/** Where one member lies in the stream. */
interface MemberExtent {
  at: number;
  header: Buffer;
  dataEnd: number;
  end: number;
}

interface LargeMember {
  name: string;
  dataStart: number;
  end: number;
}

/** Finds cut points in a stream as its bytes go by; offsets are from the start of the stream. */
export class TarBoundaries {
  readonly #largeMember: number;
  /** Cut points not yet passed, ascending. */
  readonly #cuts: number[] = [];
  /** Large members whose data is not yet passed, in stream order. */
  readonly #members: LargeMember[] = [];
  /** Offset of the next member header, or undefined once parsing stopped (end of archive, not a tar, malformed). */
  #nextHeader: number | undefined = 0;
  /** Bytes seen so far. */
  #seen = 0;
  /** The part of the next header seen so far. */
  #header = Buffer.alloc(0);
  /** Every member not yet passed (for `layoutOf`), in stream order. */
  readonly #extents: MemberExtent[] = [];

  /** Members of at least `largeMember` data bytes get chunks of their own. */
  constructor(largeMember: number) {
    this.#largeMember = largeMember;
  }

  /** Take the next bytes of the stream. */
  observe(data: Buffer): void {
    const start = this.#seen;
    this.#seen += data.length;
    while (this.#nextHeader !== undefined && this.#nextHeader < this.#seen) {
      const from = Math.max(this.#nextHeader + this.#header.length, start) - start;
      const needed = BLOCK - this.#header.length;
      this.#header = Buffer.concat([this.#header, data.subarray(from, from + needed)]);
      if (this.#header.length < BLOCK) return;
      const header = this.#header;
      this.#header = Buffer.alloc(0);
      this.#member(this.#nextHeader, header);
    }
  }

  /** Where a member header starts that has been seen only in part (whether it is a cut point is not known yet). */
  pendingHeader(): number | undefined {
    return this.#nextHeader !== undefined && this.#nextHeader < this.#seen ? this.#nextHeader : undefined;
  }

  /** The first cut point after `offset` and before `limit` (exclusive), if any; cut points up to `offset` are dropped. */
  cutBetween(offset: number, limit: number): number | undefined {
    while (this.#cuts.length > 0 && (this.#cuts[0] ?? 0) <= offset) this.#cuts.shift();
    const cut = this.#cuts[0];
    return cut !== undefined && cut < limit ? cut : undefined;
  }

  /**
   * The large member whose data holds all of stream bytes [`offset`, `offset + length`), with the file offset of
   * the first; members passed before `offset` are dropped. Undefined for headers, small members and non-tar data.
   */
  placeOf(offset: number, length: number): MemberPlace | undefined {
    while (this.#members.length > 0 && (this.#members[0]?.end ?? 0) <= offset) this.#members.shift();
    const member = this.#members[0];
    if (member === undefined || offset < member.dataStart || offset + length > member.end || length === 0) return undefined;
    return { member: member.name, offset: offset - member.dataStart };
  }

  /**
   * The layout of stream bytes [`offset`, `offset + length`) when they lie wholly within members seen (not the
   * archive's end, nor bytes of a stream that is not a tar); members passed before `offset` are dropped.
   */
  layoutOf(offset: number, length: number): ChunkLayout | undefined {
    while (this.#extents.length > 0 && (this.#extents[0]?.end ?? 0) <= offset) this.#extents.shift();
    const first = this.#extents[0];
    if (first === undefined || first.at > offset || length === 0) return undefined;
    const limit = offset + length;
    const headers: Buffer[] = [];
    let dataBytes = 0;
    let covered = first.at;
    for (const extent of this.#extents) {
      if (extent.at >= limit) break;
      headers.push(extent.header);
      dataBytes += Math.max(0, Math.min(extent.dataEnd, limit) - Math.max(extent.at + BLOCK, offset));
      covered = extent.end;
    }
    return covered >= limit ? { skew: offset - first.at, headers, dataBytes } : undefined;
  }

  #member(at: number, header: Buffer): void {
    const size = at === 0 && !isUstar(header) ? undefined : memberSize(header);
    if (size === undefined) {
      this.#nextHeader = undefined;
      return;
    }
    const end = at + BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    this.#extents.push({ at, header, dataEnd: at + BLOCK + size, end });
    if (size >= this.#largeMember) {
      this.#cuts.push(at, at + BLOCK, end);
      // A regular file (typeflag "0" or NUL) gets a place; links and directories carry no data to reuse.
      if (isRegularFile(header)) this.#members.push({ name: memberName(header), dataStart: at + BLOCK, end });
    } else if (at > 0 && nameHash(memberName(header)) % NAME_CUT_MODULUS === 0 && this.#cuts.at(-1) !== at) {
      this.#cuts.push(at);
    }
    this.#nextHeader = end;
  }
}

/** FNV-1a (32-bit) of a member's name: where runs of small members are cut. */
function nameHash(name: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < name.length; index++) hash = Math.imul(hash ^ name.charCodeAt(index), 0x01000193) >>> 0;
  return hash;
}

function isRegularFile(header: Buffer): boolean {
  const type = header[156] ?? 0;
  return type === 0 || type === 0x30;
}

/** The member's path: the ustar prefix, a slash, and the name (each NUL-terminated when shorter than its field). */
function memberName(header: Buffer): string {
  const field = (from: number, length: number): string => {
    const bytes = header.subarray(from, from + length);
    const end = bytes.indexOf(0);
    return bytes.toString("utf8", 0, end < 0 ? length : end);
  };
  const prefix = isUstar(header) ? field(PREFIX_OFFSET, PREFIX_LENGTH) : "";
  const name = field(0, NAME_LENGTH);
  return prefix === "" ? name : `${prefix}/${name}`;
}

function isUstar(header: Buffer): boolean {
  return header.toString("latin1", MAGIC_OFFSET, MAGIC_OFFSET + 5) === "ustar";
}

/** The data size a header announces; undefined at the end of the archive (a zero block) or when it is not a header. */
function memberSize(header: Buffer): number | undefined {
  if (header.every((byte) => byte === 0) || !checksumMatches(header)) return undefined;
  const field = header.subarray(SIZE_OFFSET, SIZE_OFFSET + SIZE_LENGTH);
  // Sizes of 8 GiB and more are base-256 with the high bit set; no PostgreSQL file is that large.
  if (((field[0] ?? 0) & 0x80) !== 0) return undefined;
  const text = field.toString("latin1").replace(/[\0 ]+$/, "").trim();
  if (!/^[0-7]+$/.test(text)) return undefined;
  return Number.parseInt(text, 8);
}

/** The header checksum: the sum of its bytes with the checksum field taken as spaces. */
function checksumMatches(header: Buffer): boolean {
  const recorded = Number.parseInt(header.toString("latin1", 148, 156).replace(/[\0 ]+$/, "").trim(), 8);
  let sum = 0;
  for (let index = 0; index < BLOCK; index++) sum += index >= 148 && index < 156 ? 0x20 : (header[index] ?? 0);
  return sum === recorded;
}
