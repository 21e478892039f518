/** Encoding and decoding chunks on the chunk pool: the keys go as copies, the chunk memory is transferred. */
import { InvalidError } from "../errors/index.ts";
import type { ChunkCodec, EncodedChunk } from "./chunk-codec.ts";
import type { ChunkPlace } from "./chunk-crypto.ts";
import type { ChunkPool } from "./chunk-pool.ts";
import { ownedArrayBuffer, type ChunkTaskResult, type WireCodec } from "./chunk-task.ts";
import { BackupIntegrityError } from "./integrity-error.ts";
import type { ChunkEntry } from "./manifest.ts";

/** Content MACs of chunks an incremental backup may reuse instead of storing them again. */
export interface ReuseCheck {
  contentKey: Buffer;
  known: readonly string[];
}

/** An encoded chunk, or only its MAC when `reuse.known` holds it (nothing was compressed or encrypted). */
export type PooledEncoding = (EncodedChunk & { mac?: string }) | { mac: string; stored?: undefined };

function wire(codec: ChunkCodec): WireCodec {
  return { chunkKey: new Uint8Array(codec.chunkKey), compression: codec.compression, level: codec.level };
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A failed task's error, as a BackupIntegrityError when the stored bytes were at fault. */
function failure(result: Extract<ChunkTaskResult, { ok: false }>): Error {
  if (result.integrity === undefined) return new InvalidError(result.message);
  return new BackupIntegrityError(result.integrity.problem, result.integrity.location, result.integrity.detail);
}

/** A chunk to encode; when `owned`, its memory may be given away. */
export interface PlainChunk {
  place: ChunkPlace;
  plaintext: Buffer;
  owned: boolean;
}

/**
 * Encode a chunk on the pool. When `owned`, its memory is transferred (the caller must not use it again);
 * otherwise it is copied once, since the caller may still hold it.
 */
export async function encodeOnPool(pool: ChunkPool, codec: ChunkCodec, chunk: PlainChunk, reuse?: ReuseCheck): Promise<PooledEncoding> {
  const { place, plaintext } = chunk;
  const memory = chunk.owned ? ownedArrayBuffer(plaintext) : ownedArrayBuffer(new Uint8Array(plaintext));
  const task = {
    op: "encode" as const,
    codec: wire(codec),
    place,
    plaintext: new Uint8Array(memory),
    ...(reuse === undefined ? {} : { contentKey: new Uint8Array(reuse.contentKey), known: reuse.known }),
  };
  const result = await pool.run(task, [memory]);
  if (!result.ok) throw failure(result);
  if (result.op !== "encode") throw new InvalidError("a chunk worker answered an encode with a decode");
  if (result.stored === undefined || result.sha256 === undefined) {
    if (result.mac === undefined) throw new InvalidError("a chunk worker returned neither stored bytes nor a content MAC");
    return { mac: result.mac };
  }
  return { stored: asBuffer(result.stored), sha256: result.sha256, ...(result.mac === undefined ? {} : { mac: result.mac }) };
}

/** Check and decode a stored chunk on the pool (its memory is transferred); a BackupIntegrityError names it when bad. */
export async function decodeOnPool(pool: ChunkPool, codec: ChunkCodec, place: ChunkPlace, entry: ChunkEntry, stored: Buffer): Promise<Buffer> {
  const memory = ownedArrayBuffer(stored);
  const result = await pool.run({ op: "decode", codec: wire(codec), place, entry, stored: new Uint8Array(memory) }, [memory]);
  if (!result.ok) throw failure(result);
  if (result.op !== "decode") throw new InvalidError("a chunk worker answered a decode with an encode");
  return asBuffer(result.plaintext);
}
