/**
 * One chunk, both ways: compress then encrypt (and hash the stored bytes) when writing; check size and SHA-256,
 * authenticate and decrypt, then decompress when reading, raising an error that names the chunk at the first fault.
 * Synchronous on purpose: these run on the chunk pool's worker threads (chunk-pool.ts), one chunk per thread.
 */
import { createHash, createHmac } from "node:crypto";
import { constants, zstdCompressSync, zstdDecompressSync } from "node:zlib";
import { openChunk, sealChunk, type ChunkPlace } from "./chunk-crypto.ts";
import { BackupIntegrityError } from "./integrity-error.ts";
import { releaseChunkMemory } from "./release-memory.ts";
import type { ChunkEntry } from "./manifest.ts";
import type { Compression } from "./types.ts";

/** How a backup's chunks are encoded. */
export interface ChunkCodec {
  chunkKey: Buffer;
  compression: Compression;
  /** zstd level when writing (1 fastest … 19); reading does not need it. */
  level: number;
}

/** The stored bytes of one chunk and their SHA-256. */
export interface EncodedChunk {
  stored: Buffer;
  sha256: string;
}

/** The keyed digest of a chunk's plaintext that an incremental backup compares (HMAC-SHA256 under the chain's content key). */
export function contentMac(contentKey: Buffer, plaintext: Buffer): string {
  return createHmac("sha256", contentKey).update(plaintext).digest("hex");
}

/** Compress, seal and hash one chunk. */
export function encodeChunk(codec: ChunkCodec, place: ChunkPlace, plaintext: Buffer): EncodedChunk {
  const packed =
    codec.compression === "zstd"
      ? zstdCompressSync(plaintext, {
          // One output buffer for the whole chunk: fewer, larger copies.
          chunkSize: Math.max(plaintext.length + 1024, 64 * 1024),
          params: { [constants.ZSTD_c_compressionLevel]: codec.level, [constants.ZSTD_c_checksumFlag]: 1 },
        })
      : plaintext;
  const stored = sealChunk(codec.chunkKey, place, packed);
  // The compressor's output is sealed: nothing else holds it.
  if (packed !== plaintext) releaseChunkMemory(packed);
  return { stored, sha256: createHash("sha256").update(stored).digest("hex") };
}

/** The plaintext of one chunk, or a BackupIntegrityError naming it; nothing is returned from a bad chunk. */
export function decodeChunk(codec: ChunkCodec, place: ChunkPlace, entry: ChunkEntry, stored: Buffer): Buffer {
  const fail = (problem: BackupIntegrityError["problem"], detail: string, cause?: unknown): BackupIntegrityError =>
    new BackupIntegrityError(problem, { backupId: place.backupId, objectKey: entry.key, stream: place.stream, chunkIndex: place.index }, detail, cause);
  if (stored.length !== entry.storedBytes) {
    throw fail("size", `the object is ${stored.length} bytes, the manifest says ${entry.storedBytes}: it was truncated or replaced`);
  }
  if (createHash("sha256").update(stored).digest("hex") !== entry.sha256) {
    throw fail("checksum", "the SHA-256 of the stored bytes does not match the manifest: the chunk was changed, swapped or replaced");
  }
  let packed: Buffer;
  try {
    packed = openChunk(codec.chunkKey, place, stored);
  } catch (error) {
    throw fail("authentication", "the chunk failed AES-GCM authentication: it does not belong at this place in this backup", error);
  }
  let plaintext = packed;
  if (codec.compression === "zstd") {
    try {
      plaintext = unpack(packed, entry.plaintextBytes);
    } catch (error) {
      throw fail("decompression", "the chunk is authentic but does not decompress: it was written by a faulty writer", error);
    }
  }
  if (plaintext.length !== entry.plaintextBytes) {
    throw fail("size", `the chunk holds ${plaintext.length} bytes of data, the manifest says ${entry.plaintextBytes}`);
  }
  return plaintext;
}

function unpack(packed: Buffer, expectedBytes: number): Buffer {
  return zstdDecompressSync(packed, { maxOutputLength: Math.max(expectedBytes, 1), chunkSize: Math.max(expectedBytes, 64 * 1024) });
}
