// The chunker: any way of splitting the input gives full chunks, the last one final, and the same bytes back.
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
