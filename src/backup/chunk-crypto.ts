/**
 * The cryptography of one backup: a fresh random 256-bit data key, two keys derived from it
 * (chunks, manifest), and AES-256-GCM chunks whose associated data binds each chunk to its place.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { releaseChunkMemory } from "./release-memory.ts";

/** The format name written into every associated data string. */
export const FORMAT_ID = "holdfast-backup/v1";
export const DATA_KEY_BYTES = 32;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;

/** The keys one backup uses, derived from its data key. */
export interface BackupKeys {
  chunkKey: Buffer;
  manifestKey: Buffer;
}

/** A chunk's place: what its associated data binds it to. */
export interface ChunkPlace {
  backupId: string;
  stream: string;
  ordinal: number;
  index: number;
  final: boolean;
}

/** A fresh random data key. */
export function newDataKey(): Buffer {
  return randomBytes(DATA_KEY_BYTES);
}

/** Separate keys for chunks and for the manifest, so one key never encrypts both kinds of message. */
export function deriveBackupKeys(dataKey: Buffer, backupId: string): BackupKeys {
  const derive = (purpose: string): Buffer =>
    Buffer.from(hkdfSync("sha256", dataKey, Buffer.from(backupId, "utf8"), `${FORMAT_ID} ${purpose}`, 32));
  return { chunkKey: derive("chunk"), manifestKey: derive("manifest") };
}

/** The associated data a wrapped data key is bound to: a wrapped key moved to another backup does not unwrap. */
export function dataKeyAssociatedData(backupId: string): string {
  return `${FORMAT_ID} data-key ${backupId}`;
}

/**
 * Deterministic nonce: stream ordinal (32 bits) then chunk index (64 bits). The chunk key is unique to one
 * writer (fresh data key), and a writer produces each (ordinal, index) once, so a nonce is never reused.
 */
export function chunkNonce(ordinal: number, index: number): Buffer {
  const nonce = Buffer.alloc(NONCE_BYTES);
  nonce.writeUInt32BE(ordinal, 0);
  nonce.writeBigUInt64BE(BigInt(index), 4);
  return nonce;
}

/** Binds a chunk to its backup, stream, position and whether it ends the stream. */
export function chunkAssociatedData(place: ChunkPlace): Buffer {
  return Buffer.from(JSON.stringify([FORMAT_ID, "chunk", place.backupId, place.stream, place.index, place.final]), "utf8");
}

/** `ciphertext || tag` of one (compressed) chunk. */
export function sealChunk(key: Buffer, place: ChunkPlace, plaintext: Buffer): Buffer {
  const cipher = createCipheriv("aes-256-gcm", key, chunkNonce(place.ordinal, place.index), { authTagLength: TAG_BYTES });
  cipher.setAAD(chunkAssociatedData(place));
  const body = cipher.update(plaintext);
  const sealed = Buffer.concat([body, cipher.final(), cipher.getAuthTag()]);
  // Copied into `sealed`: nothing else holds it.
  releaseChunkMemory(body);
  return sealed;
}

/** The plaintext of a sealed chunk; throws when the bytes, the key or the place do not match. */
export function openChunk(key: Buffer, place: ChunkPlace, sealed: Buffer): Buffer {
  if (sealed.length < TAG_BYTES) throw new Error("the chunk is shorter than its authentication tag");
  const decipher = createDecipheriv("aes-256-gcm", key, chunkNonce(place.ordinal, place.index), { authTagLength: TAG_BYTES });
  decipher.setAAD(chunkAssociatedData(place));
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final()]);
}

/** `nonce || ciphertext || tag` under a random nonce (the manifest key seals one message per backup, or a few after re-wrapping). */
export function sealMessage(key: Buffer, associatedData: Buffer, plaintext: Buffer): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(associatedData);
  return Buffer.concat([nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

/** Reverses `sealMessage`; throws when anything was changed. */
export function openMessage(key: Buffer, associatedData: Buffer, sealed: Buffer): Buffer {
  if (sealed.length < NONCE_BYTES + TAG_BYTES) throw new Error("the sealed message is truncated");
  const decipher = createDecipheriv("aes-256-gcm", key, sealed.subarray(0, NONCE_BYTES), { authTagLength: TAG_BYTES });
  decipher.setAAD(associatedData);
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  return Buffer.concat([decipher.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
}
