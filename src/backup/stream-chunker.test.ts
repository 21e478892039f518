// The chunker: any way of splitting the input gives full chunks, the last one final, and the same bytes back.
import { createHash } from "node:crypto";
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { test } from "node:test";
import fc from "fast-check";
import { StreamChunker, type ChunkSink } from "./stream-chunker.ts";

interface Seen {
  index: number;
  data: Buffer;
  final: boolean;
}

async function chunk(writes: Buffer[], chunkSize: number): Promise<Seen[]> {
  const seen: Seen[] = [];
  const sink: ChunkSink = {
    accept: (index, data, final) => {
      seen.push({ index, data: Buffer.from(data), final });
      return Promise.resolve();
    },
    finish: () => Promise.resolve(),
  };
  await pipeline(Readable.from(writes), new StreamChunker(chunkSize, sink));
  return seen;
}

test("chunks are full except the last, numbered in order, only the last is final, and concatenate to the input", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 12 }), fc.integer({ min: 1, max: 256 }), async (parts, size) => {
      const writes = parts.filter((part) => part.length > 0).map((part) => Buffer.from(part));
      const input = Buffer.concat(writes);
      const seen = await chunk(writes, size);
      assert.deepEqual(seen.map((s) => s.index), seen.map((_, i) => i));
      assert.deepEqual(seen.map((s) => s.final), seen.map((_, i) => i === seen.length - 1));
      for (const s of seen.slice(0, -1)) assert.equal(s.data.length, size);
      assert.ok(seen.at(-1)!.data.length <= size);
      assert.equal(seen.length, Math.max(1, Math.ceil(input.length / size)));
      assert.ok(Buffer.concat(seen.map((s) => s.data)).equals(input));
    }),
    { numRuns: 300 },
  );
});

test("an empty stream is one empty final chunk; an exact multiple ends with a full final chunk", async () => {
  assert.deepEqual(await chunk([], 4), [{ index: 0, data: Buffer.alloc(0), final: true }]);
  const exact = await chunk([Buffer.from("abcdefgh")], 4);
  assert.deepEqual(exact.map((s) => [s.data.toString(), s.final]), [["abcd", false], ["efgh", true]]);
});

test("a sink that fails makes the writable fail", async () => {
  const sink: ChunkSink = { accept: () => Promise.reject(new Error("disk full")), finish: () => Promise.resolve() };
  await assert.rejects(pipeline(Readable.from([Buffer.alloc(10)]), new StreamChunker(4, sink)), /disk full/);
});

/** One ustar member: a header with a valid checksum, then the data padded to 512 bytes. */
function ustarMember(name: string, data: Buffer): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, "latin1");
  header.write("0000600\0", 100, "latin1");
  header.write(`${data.length.toString(8).padStart(11, "0")}\0`, 124, "latin1");
  header.write("0", 156, "latin1");
  header.write("ustar\0" + "00", 257, "latin1");
  header.fill(0x20, 148, 156);
  const sum = header.reduce((total, byte) => total + byte, 0);
  header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
  return Buffer.concat([header, data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}

function tarOf(members: Array<[string, Buffer]>): Buffer {
  return Buffer.concat([...members.map(([name, data]) => ustarMember(name, data)), Buffer.alloc(1024)]);
}

function filled(bytes: number, seed: number): Buffer {
  return Buffer.from(Array.from({ length: bytes }, (_, i) => (i * 31 + seed * 7) % 251));
}

test("a tar is also cut where its large members start and end, however the writes are split", async () => {
  const big = filled(5000, 1);
  // The big member's header (1536-2047) straddles where a fixed-size cut would fall (2000).
  const tar = tarOf([["small", filled(100, 2)], ["empty", Buffer.alloc(0)], ["big", big], ["after", filled(300, 3)]]);
  const bigStart = 1024 + 512;
  const bigEnd = bigStart + 512 + Math.ceil(big.length / 512) * 512;
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 3000 }), async (split) => {
      const writes: Buffer[] = [];
      for (let offset = 0; offset < tar.length; offset += split) writes.push(tar.subarray(offset, offset + split));
      const seen = await chunk(writes, 2000);
      const starts = seen.map((_, i) => seen.slice(0, i).reduce((total, s) => total + s.data.length, 0));
      assert.ok(starts.includes(bigStart) && starts.includes(bigEnd), `cuts at ${starts.join(",")}`);
      assert.ok(seen.every((s) => s.data.length <= 2000));
      assert.ok(Buffer.concat(seen.map((s) => s.data)).equals(tar));
    }),
    { numRuns: 60 },
  );
});

test("a large member is chunked alike when a member before it grows", async () => {
  const big = filled(9000, 4);
  const chunksOfBig = async (before: number): Promise<string[]> => {
    const seen = await chunk([tarOf([["grows", filled(before, 5)], ["big", big]])], 2048);
    return seen.map((s) => s.data.toString("hex"));
  };
  const first = await chunksOfBig(100);
  const second = await chunksOfBig(1700);
  const shared = first.filter((hex) => second.includes(hex));
  // The big member's header and data: ceil((512 + 9216) / 2048) = 5 chunks, all the same in both.
  assert.ok(shared.length >= 5, `only ${shared.length} chunks shared`);
});

test("a large member's header is a chunk of its own and its data chunks are known by name and file offset", async () => {
  const big = filled(5000, 6);
  const tar = tarOf([["small", filled(100, 2)], ["base/5/16384", big], ["after", filled(300, 3)]]);
  const placed: Array<{ data: Buffer; place: { member: string; offset: number } | undefined }> = [];
  const sink: ChunkSink = {
    accept: (_index, data, _final, _owned, facts) => {
      placed.push({ data: Buffer.from(data), place: facts.place });
      return Promise.resolve();
    },
    finish: () => Promise.resolve(),
  };
  const writes: Buffer[] = [];
  for (let offset = 0; offset < tar.length; offset += 700) writes.push(tar.subarray(offset, offset + 700));
  await pipeline(Readable.from(writes), new StreamChunker(2000, sink));
  const ofBig = placed.filter((chunk) => chunk.place !== undefined);
  assert.deepEqual(ofBig.map((chunk) => chunk.place), [0, 2000, 4000].map((offset) => ({ member: "base/5/16384", offset })));
  const padded = Buffer.concat([big, Buffer.alloc(120)]);
  for (const chunk of ofBig) assert.ok(chunk.data.equals(padded.subarray(chunk.place?.offset, (chunk.place?.offset ?? 0) + chunk.data.length)));
  // The header alone, just before the first data chunk.
  const first = placed.findIndex((chunk) => chunk.place !== undefined);
  assert.equal(placed[first - 1]?.data.length, 512);
  assert.equal(placed[first - 1]?.data.toString("latin1", 0, 12), "base/5/16384");
});

test("an indivisible write passes as a chunk of its own, the same buffer; cut or joined, it fails the stream", async () => {
  const marked = new Set<Buffer>();
  const placeholder = Buffer.alloc(64, 0);
  marked.add(placeholder);
  const passed: Buffer[] = [];
  const sink: ChunkSink = {
    accept: (_index, data) => {
      passed.push(data);
      return Promise.resolve();
    },
    finish: () => Promise.resolve(),
  };
  const run = (writes: Buffer[]): Promise<void> => pipeline(Readable.from(writes), new StreamChunker(64, sink, { indivisible: (data) => marked.has(data) }));
  await run([Buffer.alloc(64, 1), placeholder, Buffer.alloc(10, 2)]);
  assert.ok(passed.includes(placeholder), "the placeholder itself was passed on");
  await assert.rejects(run([Buffer.alloc(32, 1), placeholder, Buffer.alloc(10, 2)]), /does not fall on the chunk boundaries/);
  const short = Buffer.alloc(10, 0);
  marked.add(short);
  await assert.rejects(run([Buffer.alloc(64, 1), short, Buffer.alloc(60, 2)]), /does not fall on the chunk boundaries/, "joined to the bytes after it");
});

test("a run of small members is cut before members picked by name: a grown file changes only its own piece of it", async () => {
  const members = (grown: number): Array<[string, Buffer]> => Array.from({ length: 300 }, (_, index) => [`base/5/${2600 + index}`, filled(index === grown ? 1400 : 900, index)]);
  const digests = async (grown: number): Promise<string[]> => {
    const seen = await chunk([tarOf(members(grown))], 64 * 1024);
    return seen.map((s) => createHash("sha256").update(s.data).digest("hex"));
  };
  const before = await digests(-1);
  const after = await digests(20);
  const shared = after.filter((digest) => before.includes(digest)).length;
  // 300 members of ~1.4 KiB in chunks of at most 64 KiB: cut by offset alone, every chunk after the grown file would
  // differ; cut by name, only the one holding it (and at most one fixed-size cut after it) does.
  assert.ok(before.length >= 8, `${before.length} chunks`);
  assert.ok(shared >= after.length - 2, `${shared} of ${after.length} chunks shared`);
});
