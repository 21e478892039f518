/** The messages between the chunk pool and its worker threads (plain data: they are structured-cloned). */
import type { ChunkPlace } from "./chunk-crypto.ts";
import type { IntegrityLocation, IntegrityProblem } from "./integrity-error.ts";
import type { ChunkEntry } from "./manifest.ts";
import type { Compression } from "./types.ts";

/** A codec as sent to a worker: the key is a copy the worker wipes after the task. */
export interface WireCodec {
  chunkKey: Uint8Array;
  compression: Compression;
  level: number;
}

/** Compress, seal and hash a chunk; with `contentKey`, first its content MAC, and nothing more when `known` has it. */
export interface EncodeTask {
  op: "encode";
  codec: WireCodec;
  place: ChunkPlace;
  plaintext: Uint8Array;
  contentKey?: Uint8Array;
  known?: readonly string[];
}

/** Check, open and decompress a stored chunk. */
export interface DecodeTask {
  op: "decode";
  codec: WireCodec;
  place: ChunkPlace;
  entry: ChunkEntry;
  stored: Uint8Array;
}

export type ChunkTask = EncodeTask | DecodeTask;

/** What an encode produced: the stored bytes, or only the MAC when the content is already in the chain. */
export interface EncodeResult {
  ok: true;
  op: "encode";
  mac?: string;
  stored?: Uint8Array;
  sha256?: string;
}

export interface DecodeResult {
  ok: true;
  op: "decode";
  plaintext: Uint8Array;
}

/** A failed task; `integrity` when the stored bytes were at fault (rebuilt as a BackupIntegrityError). */
export interface FailedTask {
  ok: false;
  message: string;
  integrity?: { problem: IntegrityProblem; location: IntegrityLocation; detail: string };
}

export type ChunkTaskResult = EncodeResult | DecodeResult | FailedTask;

/**
 * An ArrayBuffer holding exactly `bytes`, which can be transferred to another thread: the buffer's own when it spans
 * all of it (no copy), else a copy (a view into a larger or pooled buffer must not hand the rest away).
 */
export function ownedArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  if (bytes.byteLength === 0) return new ArrayBuffer(0);
  const whole = bytes.buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  if (whole) return bytes.buffer;
  const copy = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(copy).set(bytes);
  return copy;
}
