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
