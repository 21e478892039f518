/**
 * The body of a chunk pool worker thread: encodes or decodes one chunk per message and posts the result back,
 * transferring the result's memory instead of copying it. Keys arrive with each task and are wiped after it.
 */
import { parentPort } from "node:worker_threads";
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

function perform(task: ChunkTask): { result: ChunkTaskResult; transfer: ArrayBuffer[] } {
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

parentPort?.on("message", (task: ChunkTask) => {
  const { result, transfer } = perform(task);
  parentPort?.postMessage(result, transfer);
});
