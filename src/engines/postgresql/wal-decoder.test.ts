import assert from "node:assert/strict";
import { test } from "node:test";
import { WalBlockMap } from "./wal-block-map.ts";
import { WAL_PAGE_SIZE, WalDecoder, WalUntrustedError, type ChangedBlocks, type WalRange } from "./wal-decoder.ts";
import { decodeRecord, WalFormatError, type BlockReference } from "./wal-record.ts";

/** Two pages per segment: records cross pages and segments after a few kilobytes. */
const SEGMENT = 2 * WAL_PAGE_SIZE;
const SYSTEM = 7390000000000000001n;
const TIMELINE = 1;

interface RecordSpec {
  rmid?: number;
  info?: number;
  blocks?: Array<BlockReference & { sameRel?: boolean; image?: number; data?: number }>;
  main?: Buffer;
}

/** A record as PostgreSQL 15 writes it (xl_prev filled in by `layOut`, CRC left 0: the reader does not check it). */
function record(spec: RecordSpec): Buffer {
  const headers: Buffer[] = [];
  const payload: Buffer[] = [];
  (spec.blocks ?? []).forEach((block, id) => {
    const image = block.image ?? 0;
    const flags = block.fork | (image > 0 ? 0x10 : 0) | (block.sameRel === true ? 0x80 : 0);
    const header = Buffer.alloc(4);
    header.writeUInt8(id, 0);
    header.writeUInt8(flags, 1);
    header.writeUInt16LE(block.data ?? 0, 2);
    headers.push(header);
    if (image > 0) headers.push(Buffer.from([image & 0xff, image >> 8, 0, 0, 0]));
    if (block.sameRel !== true) headers.push(u32s(block.spc, block.db, block.rel));
    headers.push(u32s(block.block));
    payload.push(Buffer.alloc(image + (block.data ?? 0), 0x42));
  });
  const main = spec.main ?? Buffer.alloc(0);
  if (main.length > 0) headers.push(Buffer.from([255, main.length]));
  const body = Buffer.concat([...headers, ...payload, main]);
  const head = Buffer.alloc(24);
  head.writeUInt32LE(24 + body.length, 0);
  head.writeUInt8(spec.info ?? 0, 16);
  head.writeUInt8(spec.rmid ?? 10, 17);
  return Buffer.concat([head, body]);
}

function u32s(...values: number[]): Buffer {
  const data = Buffer.alloc(values.length * 4);
  values.forEach((value, index) => data.writeUInt32LE(value, index * 4));
  return data;
}

/** Lay records out in WAL pages from `start` (a position just after a page header): segments, record starts, end. */
function layOut(records: Buffer[], start: bigint): { segments: Map<bigint, Buffer>; starts: bigint[]; end: bigint } {
  const segments = new Map<bigint, Buffer>();
  const at = (position: bigint): [Buffer, number] => {
    const number = position / BigInt(SEGMENT);
    const segment = segments.get(number) ?? Buffer.alloc(SEGMENT);
    segments.set(number, segment);
    return [segment, Number(position % BigInt(SEGMENT))];
  };
  const pageHeader = (position: bigint, remaining: number): bigint => {
    const [segment, offset] = at(position);
    const long = offset === 0;
    segment.writeUInt16LE(0xd110, offset);
    segment.writeUInt16LE((remaining > 0 ? 1 : 0) | (long ? 2 : 0), offset + 2);
    segment.writeUInt32LE(TIMELINE, offset + 4);
    segment.writeBigUInt64LE(position, offset + 8);
    segment.writeUInt32LE(remaining, offset + 16);
    if (long) {
      segment.writeBigUInt64LE(SYSTEM, offset + 24);
      segment.writeUInt32LE(SEGMENT, offset + 32);
      segment.writeUInt32LE(WAL_PAGE_SIZE, offset + 36);
    }
    return position + (long ? 40n : 24n);
  };
  pageHeader(start - (start % BigInt(WAL_PAGE_SIZE)), 0);
  let position = start;
  const starts: bigint[] = [];
  for (const data of records) {
    position = (position + 7n) & ~7n;
    if (position % BigInt(WAL_PAGE_SIZE) === 0n) position = pageHeader(position, 0);
    if (starts.length > 0 && data.readBigUInt64LE(8) === 0n) data.writeBigUInt64LE(starts.at(-1) ?? 0n, 8);
    starts.push(position);
    let written = 0;
    while (written < data.length) {
      if (written > 0) position = pageHeader(position, data.length - written);
      const [segment, offset] = at(position);
      const count = Math.min(data.length - written, WAL_PAGE_SIZE - (offset % WAL_PAGE_SIZE));
      data.copy(segment, offset, written, written + count);
      written += count;
      position += BigInt(count);
    }
  }
  return { segments, starts, end: (position + 7n) & ~7n };
}

function rangeOf(start: bigint, end: bigint): WalRange {
  return { timeline: TIMELINE, segmentSize: SEGMENT, systemIdentifier: SYSTEM, start, end };
}

/** Feed every segment the decoder asks for, each copied into the same buffer (as the reader does). */
function decode(segments: Map<bigint, Buffer>, range: WalRange): ChangedBlocks {
  const decoder = new WalDecoder(range);
  const buffer = Buffer.alloc(SEGMENT);
  for (let number = decoder.nextSegment; number !== undefined; number = decoder.nextSegment) {
    const segment = segments.get(number);
    if (segment === undefined) throw new Error(`segment ${number} was not laid out`);
    segment.copy(buffer);
    decoder.feed(number, buffer);
  }
  return decoder.result();
}

const START = BigInt(SEGMENT) * 3n + 40n;
const relation = { spc: 1663, db: 5, rel: 16384 };

/** Records of several sizes: small, one crossing a page, one crossing a segment, same-relation blocks. */
function workload(): Buffer[] {
  return [
    record({ blocks: [{ ...relation, fork: 0, block: 1, data: 30 }] }),
    record({ blocks: [{ ...relation, fork: 0, block: 2, image: 7000 }, { ...relation, fork: 2, block: 0, sameRel: true }] }),
    record({ blocks: [{ ...relation, fork: 0, block: 140_000, image: 8000, data: 9000 }] }),
    record({ rmid: 0, info: 0x30 }),
    record({ blocks: [{ spc: 1664, db: 0, rel: 1262, fork: 0, block: 0, data: 12 }] }),
  ];
}

test("collects the blocks of records crossing pages and segments, and stops before the end", () => {
  const { segments, starts, end } = layOut(workload(), START);
  assert.equal(segments.size, 2, "a record crosses into the next segment");
  const changes = decode(segments, rangeOf(START, end));
  assert.equal(changes.records, 5);
  assert.deepEqual([...(changes.blocks.get("1663/5/16384/0") ?? [])].sort((a, b) => a - b), [1, 2, 140_000]);
  assert.deepEqual([...(changes.blocks.get("1663/5/16384/2") ?? [])], [0]);
  assert.deepEqual([...(changes.blocks.get("1664/0/1262/0") ?? [])], [0]);
  const partial = decode(segments, rangeOf(START, starts[2] ?? 0n));
  assert.equal(partial.records, 2, "a record starting at the end is not read");
});

test("a page without the magic, at another address (recycled), or of another timeline gives no map", () => {
  const damages: Array<[string, (segment: Buffer) => void]> = [
    ["magic", (segment) => segment.writeUInt16LE(0xd10d, WAL_PAGE_SIZE)],
    ["address", (segment) => segment.writeBigUInt64LE(12345n * 8192n, WAL_PAGE_SIZE + 8)],
    ["timeline", (segment) => segment.writeUInt32LE(2, WAL_PAGE_SIZE + 4)],
    ["system", (segment) => segment.writeBigUInt64LE(1n, 24)],
  ];
  for (const [what, damage] of damages) {
    const { segments, end } = layOut(workload(), START);
    const segment = segments.get(3n);
    assert.ok(segment !== undefined);
    damage(segment);
    assert.throws(() => decode(segments, rangeOf(START, end)), WalFormatError, what);
  }
});

test("a record whose xl_prev is not the previous record's start, or whose length is absurd, gives no map", () => {
  const records = workload();
  records[3]?.writeBigUInt64LE(START + 8n, 8);
  const broken = layOut(records, START);
  assert.throws(() => decode(broken.segments, rangeOf(START, broken.end)), /does not follow/);
  const { segments, starts, end } = layOut(workload(), START);
  const second = starts[1] ?? 0n;
  segments.get(second / BigInt(SEGMENT))?.writeUInt32LE(12, Number(second % BigInt(SEGMENT)));
  assert.throws(() => decode(segments, rangeOf(START, end)), /claims 12 bytes/);
});

test("a continuation page that does not continue the record gives no map", () => {
  const { segments, end } = layOut(workload(), START);
  const segment = segments.get(3n);
  assert.ok(segment !== undefined);
  segment.writeUInt32LE(segment.readUInt32LE(WAL_PAGE_SIZE + 16) + 8, WAL_PAGE_SIZE + 16);
  assert.throws(() => decode(segments, rangeOf(START, end)), /does not continue/);
});

test("database and tablespace records refuse the map; SMGR create and truncate make their relation untrusted", () => {
  for (const rmid of [4, 5]) {
    const { segments, end } = layOut([...workload(), record({ rmid, info: 0x00, main: Buffer.alloc(8) })], START);
    assert.throws(() => decode(segments, rangeOf(START, end)), WalUntrustedError);
  }
  const fullPageWrites = layOut([record({ rmid: 0, info: 0x80, main: Buffer.alloc(1) })], START);
  assert.throws(() => decode(fullPageWrites.segments, rangeOf(START, fullPageWrites.end)), /full_page_writes/);
  const create = Buffer.concat([u32s(1663, 5, 20000), u32s(0)]);
  const truncate = Buffer.concat([u32s(7), u32s(1663, 5, 16384), u32s(3)]);
  const { segments, end } = layOut([record({ rmid: 2, info: 0x10, main: create }), record({ rmid: 2, info: 0x20, main: truncate })], START);
  assert.deepEqual([...decode(segments, rangeOf(START, end)).untrusted].sort(), ["1663/5/16384", "1663/5/20000"]);
});

test("an XLOG switch moves the reader to the next segment", () => {
  const records = [record({ rmid: 0, info: 0x40 }), record({ blocks: [{ ...relation, fork: 0, block: 9 }] })];
  const first = layOut(records.slice(0, 1), START);
  records[1]?.writeBigUInt64LE(START, 8);
  const rest = layOut(records.slice(1), BigInt(SEGMENT) * 4n + 40n);
  const segments = new Map([...first.segments, ...rest.segments]);
  assert.deepEqual([...(decode(segments, rangeOf(START, rest.end)).blocks.get("1663/5/16384/0") ?? [])], [9]);
});

test("a record's headers must add up to its length", () => {
  const data = record({ blocks: [{ ...relation, fork: 0, block: 1, data: 30 }] });
  data.writeUInt32LE(data.length - 1, 0);
  assert.throws(() => decodeRecord(data.subarray(0, data.length - 1)), WalFormatError);
  assert.throws(() => decodeRecord(record({ blocks: [{ ...relation, fork: 0, block: 1, sameRel: true }] })), /previous relation/);
});

test("the map answers by file and byte range: main-fork segments, changed blocks, untrusted relations", () => {
  const changes: ChangedBlocks = { blocks: new Map([["1663/5/16384/0", new Set([3, 131072 + 600])], ["1664/0/1262/0", new Set([0])]]), untrusted: new Set(["1663/5/20000"]), records: 2 };
  const map = new WalBlockMap(changes, 131072);
  const chunk = 512 * 8192;
  assert.equal(map.unchanged("base/5/16384", 0, chunk), false, "block 3");
  assert.equal(map.unchanged("base/5/16384", chunk, chunk), true);
  assert.equal(map.unchanged("base/5/16384.1", chunk, chunk), false, "block 600 of the second segment");
  assert.equal(map.unchanged("base/5/16384.1", 0, chunk), true);
  assert.equal(map.unchanged("global/1262", 0, 8192), false);
  assert.equal(map.unchanged("base/5/20000", chunk, chunk), false, "a relation created since the parent");
  assert.equal(map.unchanged("base/5/16385", 0, chunk), true, "a relation the WAL never touched");
  assert.equal(map.unchanged("base/5/16384_vm", 0, 8192), false, "not a main fork");
  assert.equal(map.unchanged("base/5/16384", 100, chunk), false, "not page-aligned");
  assert.equal(map.blockCount, 3);
});

test("the end may be set after the first segments were read, but not before a record already read", () => {
  const { segments, starts, end } = layOut(workload(), START);
  const decoder = new WalDecoder({ ...rangeOf(START, end), end: undefined });
  const first = segments.get(3n);
  assert.ok(first !== undefined);
  decoder.feed(3n, first);
  assert.equal(decoder.done, false, "without an end the reader waits for more");
  assert.throws(() => {
    const early = new WalDecoder({ ...rangeOf(START, end), end: undefined });
    early.feed(3n, first);
    early.endAt(starts[1] ?? 0n);
  }, /impossible WAL range/);
  decoder.endAt(end);
  for (let number = decoder.nextSegment; number !== undefined; number = decoder.nextSegment) decoder.feed(number, segments.get(number) ?? Buffer.alloc(0));
  assert.equal(decoder.result().records, 5);
});

test("fed first up to a written position (whole pages only), then again from there, the reader finds the same", () => {
  const { segments, end } = layOut(workload(), START);
  const whole = decode(segments, rangeOf(START, end));
  for (const written of [START + 100n, BigInt(SEGMENT) * 3n + 9000n, BigInt(SEGMENT) * 4n + 100n]) {
    const decoder = new WalDecoder({ ...rangeOf(START, end), end: undefined });
    for (let number = decoder.nextSegment; number !== undefined && number <= written / BigInt(SEGMENT); number = decoder.nextSegment) {
      decoder.feed(number, segments.get(number) ?? Buffer.alloc(0), Number(written));
      if (number === written / BigInt(SEGMENT)) break;
    }
    decoder.endAt(end);
    for (let number = decoder.nextSegment; number !== undefined; number = decoder.nextSegment) decoder.feed(number, segments.get(number) ?? Buffer.alloc(0));
    const stepped = decoder.result();
    assert.equal(stepped.records, whole.records, `written at ${written}`);
    assert.deepEqual([...stepped.blocks.keys()], [...whole.blocks.keys()]);
  }
});
