// The chunk pool: tasks run on worker threads, in parallel up to its size, with memory moved rather than copied.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { ChunkPool, assertProcessMax } from "./chunk-pool.ts";
import { decodeOnPool, encodeOnPool } from "./pooled-codec.ts";
import { BackupIntegrityError } from "./integrity-error.ts";

const codec = { chunkKey: randomBytes(32), compression: "zstd" as const, level: 1 };
const place = (index: number): { backupId: string; stream: string; ordinal: number; index: number; final: boolean } => ({ backupId: "b", stream: "s", ordinal: 0, index, final: false });

test("chunks encoded and decoded on the pool come back whole; owned memory is moved, the caller's is left alone", async () => {
  const pool = new ChunkPool(2);
  try {
    const owned = Buffer.concat([Buffer.alloc(100_000, 7), randomBytes(50_000)]);
    const copy = Buffer.from(owned);
    const borrowed = Buffer.from(copy);
    const [a, b] = await Promise.all([
      encodeOnPool(pool, codec, { place: place(0), plaintext: owned, owned: true }),
      encodeOnPool(pool, codec, { place: place(1), plaintext: borrowed, owned: false }),
    ]);
    assert.equal(owned.length, 0, "the owned chunk was transferred");
    assert.ok(borrowed.equals(copy), "a chunk the caller still holds is not detached");
    assert.ok(a.stored !== undefined && b.stored !== undefined);
    const entry = (index: number, stored: Buffer, sha256: string): { index: number; key: string; storedBytes: number; plaintextBytes: number; sha256: string } => ({ index, key: `k/${index}`, storedBytes: stored.length, plaintextBytes: copy.length, sha256 });
    assert.ok((await decodeOnPool(pool, codec, place(1), entry(1, b.stored, b.sha256), Buffer.from(b.stored))).equals(copy));
    const damaged = Buffer.from(a.stored);
    damaged[10]! ^= 1;
    await assert.rejects(decodeOnPool(pool, codec, place(0), entry(0, a.stored, a.sha256), damaged), (error: unknown) => error instanceof BackupIntegrityError && error.problem === "checksum" && /chunk 0 \(object k\/0\)/.test(error.message));
  } finally {
    await pool.close();
  }
});

test("with a content key, a chunk whose MAC is known is not encoded: only its MAC comes back", async () => {
  const pool = new ChunkPool(1);
  try {
    const contentKey = randomBytes(32);
    const data = randomBytes(10_000);
    const first = await encodeOnPool(pool, codec, { place: place(0), plaintext: data, owned: false }, { contentKey, known: [] });
    assert.ok(first.stored !== undefined && first.mac !== undefined);
    const again = await encodeOnPool(pool, codec, { place: place(5), plaintext: data, owned: false }, { contentKey, known: [first.mac] });
    assert.deepEqual(again, { mac: first.mac });
  } finally {
    await pool.close();
  }
});

test("process-max is a whole number from 1 to 16; a closed pool refuses work", async () => {
  for (const bad of [0, 17, 1.5]) assert.throws(() => assertProcessMax(bad), /process-max must be a whole number from 1 to 16/);
  const pool = new ChunkPool(1);
  await pool.close();
  await assert.rejects(encodeOnPool(pool, codec, { place: place(0), plaintext: Buffer.alloc(10), owned: false }), /closed/);
});

test("warm starts every worker thread before the first task, without keeping the process alive", async () => {
  const pool = new ChunkPool(2);
  try {
    assert.equal(pool.threads, 0, "threads start on demand");
    pool.warm();
    assert.equal(pool.threads, 2);
    const encoded = await encodeOnPool(pool, codec, { place: place(0), plaintext: randomBytes(1000), owned: false });
    assert.ok(encoded.stored !== undefined);
    assert.equal(pool.threads, 2, "no further thread for the task");
  } finally {
    await pool.close();
  }
});

test("with a caller's lane, a task that finds the worker busy runs on the pool's thread, with the caller's key left whole", async () => {
  const chunks = Array.from({ length: 6 }, () => Buffer.concat([randomBytes(300_000), Buffer.alloc(700_000, 3)]));
  const run = async (pool: ChunkPool): Promise<Buffer[]> => {
    const encoded = await Promise.all(chunks.map((chunk, index) => encodeOnPool(pool, codec, { place: place(index), plaintext: chunk, owned: false })));
    return Promise.all(encoded.map(async (result, index) => {
      assert.ok(result.stored !== undefined);
      const entry = { index, key: `k/${index}`, storedBytes: result.stored.length, plaintextBytes: chunks[index]!.length, sha256: result.sha256 };
      return decodeOnPool(pool, codec, place(index), entry, result.stored);
    }));
  };
  const laned = new ChunkPool(1, { callerLane: true });
  const plain = new ChunkPool(1);
  try {
    const decoded = await run(laned);
    decoded.forEach((chunk, index) => assert.ok(chunk.equals(chunks[index]!), `chunk ${index} comes back whole`));
    assert.ok(laned.ranHere > 0, "some tasks ran on the pool's own thread");
    assert.ok(laned.ranHere < 2 * chunks.length, "and the worker ran others");
    await run(plain);
    assert.equal(plain.ranHere, 0, "without the lane, every task waits for the worker");
    // The worker busy with one chunk, a task given straight to the pool runs here, on a clone: the caller's key is not wiped.
    const chunkKey = new Uint8Array(randomBytes(32));
    const copy = Buffer.from(chunkKey);
    const busy = encodeOnPool(laned, codec, { place: place(0), plaintext: chunks[0]!, owned: false });
    const before = laned.ranHere;
    const result = await laned.run({ op: "encode", codec: { chunkKey, compression: "zstd", level: 1 }, place: place(9), plaintext: new Uint8Array(1000) }, []);
    await busy;
    assert.ok(result.ok);
    assert.equal(laned.ranHere, before + 1);
    assert.ok(Buffer.from(chunkKey).equals(copy), "the caller's key is left whole");
  } finally {
    await Promise.all([laned.close(), plain.close()]);
  }
});
