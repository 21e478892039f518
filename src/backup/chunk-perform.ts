/**
 * One chunk task, on whichever thread runs it: a pool worker (chunk-worker.ts) or, when the pool has a caller's lane,
 * the pool's own thread (chunk-pool.ts). The task owns its memory (it came transferred or cloned): its keys are wiped
 * and an encoded plaintext is released once done.
 */
import { contentMac, decodeChunk, encodeChunk } from "./chunk-codec.ts";
import { BackupIntegrityError } from "./integrity-error.ts";
import { releaseChunkMemory } from "./release-memory.ts";
import { ownedArrayBuffer, type ChunkTask, type ChunkTaskResult, type WireCodec } from "./chunk-task.ts";

function codecOf(wire: WireCodec): { chunkKey: Buffer; compression: WireCodec["compression"]; level: number } {
  return { chunkKey: Buffer.from(wire.chunkKey.buffer, wire.chunkKey.byteOffset, wire.chunkKey.byteLength), compression: wire.compression, level: wire.level };
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Run one task on this thread: what a worker does with each message (the task's memory is its own, and is wiped or released). */
export function performChunkTask(task: ChunkTask): { result: ChunkTaskResult; transfer: ArrayBuffer[] } {
  const codec = codecOf(task.codec);
  try {
    if (task.op === "decode") {
      const plaintext = decodeChunk(codec, task.place, task.entry, asBuffer(task.stored));
      const owned = ownedArrayBuffer(plaintext);
      return { result: { ok: true, op: "decode", plaintext: new Uint8Array(owned) }, transfer: [owned] };
    }
    const plaintext = asBuffer(task.plaintext);
    const mac = task.contentKey === undefined ? undefined : contentMac(asBuffer(task.contentKey), plaintext);
    if (mac !== undefined && task.known?.includes(mac) === true) return { result: { ok: true, op: "encode", mac }, transfer: [] };
    const { stored, sha256 } = encodeChunk(codec, task.place, plaintext);
    const owned = ownedArrayBuffer(stored);
    return { result: { ok: true, op: "encode", stored: new Uint8Array(owned), sha256, ...(mac === undefined ? {} : { mac }) }, transfer: [owned] };
  } catch (error) {
    if (error instanceof BackupIntegrityError) {
      return { result: { ok: false, message: error.message, integrity: { problem: error.problem, location: error.location, detail: error.detail } }, transfer: [] };
    }
    return { result: { ok: false, message: error instanceof Error ? error.message : String(error) }, transfer: [] };
  } finally {
    codec.chunkKey.fill(0);
    if (task.op === "encode") {
      task.contentKey?.fill(0);
      // It came transferred and is encoded: nothing else holds it.
      releaseChunkMemory(task.plaintext);
    }
  }
}
