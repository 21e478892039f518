/** Chunk memory given back as soon as it is done with, instead of at the collector's leisure. */
/** Below this, an ArrayBuffer may be Node's shared small-buffer pool (8 KiB), which must never be detached. */
const RELEASE_AT_LEAST = 64 * 1024;

/**
 * Give the memory under `bytes` back now, by detaching its ArrayBuffer, when the caller knows nothing else holds it
 * (a chunk transferred here, a compressor's or cipher's output once copied on). Left to the collector, such
 * chunks piled up by the hundred MiB in a backup's threads (ADR 0044). Small buffers are left alone.
 */
export function releaseChunkMemory(bytes: Uint8Array): void {
  const memory = bytes.buffer;
  if (memory instanceof ArrayBuffer && memory.byteLength >= RELEASE_AT_LEAST) memory.transfer(0);
}
