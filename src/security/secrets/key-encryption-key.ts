/**
 * The key-encryption key (KEK) of a control plane on etcd: 32 random bytes in a 0600 file in each node's home
 * (`<home>/keys/key-encryption.key`). It wraps the secret keyring kept in etcd, so etcd (and its backups) hold only
 * wrapped keys. It is made once, on the first node, and reaches another node only through the join, which carries
 * it over the authenticated TLS connection (exportKeyEncryptionKey on the serving node, importKeyEncryptionKey on the
 * joining one). It never goes into etcd.
 */
import { createCipheriv, createDecipheriv, randomBytes, timingSafeEqual } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { UnavailableError } from "../../errors/index.ts";
import { checkPrivateMode, isExisting, isMissing, writePrivateFile } from "./keyring-file.ts";

const KEK_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Read the KEK at `path`, creating it (0600, in a 0700 directory) when there is none. */
export async function loadOrCreateKeyEncryptionKey(path: string): Promise<Buffer> {
  const existing = await readKeyEncryptionKey(path);
  if (existing !== undefined) return existing;
  try {
    await writePrivateFile(path, randomBytes(KEK_BYTES), true);
  } catch (error) {
    // Another process made it first: use theirs.
    if (!isExisting(error)) throw error;
  }
  return exportKeyEncryptionKey(path);
}

/** The KEK at `path`, for handing to a joining node over the join's TLS connection; an error when there is none. */
export async function exportKeyEncryptionKey(path: string): Promise<Buffer> {
  const kek = await readKeyEncryptionKey(path);
  if (kek === undefined) throw new UnavailableError(`the key-encryption key ${path} does not exist; it is made by \`holdfast init --store etcd://…\` on the first node and given to every other node by \`holdfast init --join\``);
  return kek;
}

/**
 * Store the KEK a joining node received at `path` (0600). A file already there must hold the same key: a node is
 * never switched to another control plane's KEK silently.
 */
export async function importKeyEncryptionKey(path: string, kek: Buffer): Promise<void> {
  if (kek.length !== KEK_BYTES) throw new UnavailableError(`a key-encryption key has ${KEK_BYTES} bytes; the one received has ${kek.length}`);
  try {
    await writePrivateFile(path, kek, true);
  } catch (error) {
    if (!isExisting(error)) throw error;
    const present = await exportKeyEncryptionKey(path);
    if (!timingSafeEqual(present, kek)) {
      throw new UnavailableError(`${path} already holds a different key-encryption key; this home belongs to another control plane — join from an empty home`);
    }
  }
}

/** `key` sealed under the KEK (AES-256-GCM), bound to its key id so a wrapped key moved to another id does not unwrap. */
export function wrapKey(kek: Buffer, keyId: string, key: Buffer): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", kek, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(wrapAssociatedData(keyId), "utf8"));
  const body = Buffer.concat([cipher.update(key), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]).toString("base64");
}

/** The key `wrapKey` sealed; an error naming the KEK file when this KEK did not make it (or it was changed). */
export function unwrapKey(kek: Buffer, keyId: string, wrapped: string, kekPath: string): Buffer {
  const sealed = Buffer.from(wrapped, "base64");
  const decipher = createDecipheriv("aes-256-gcm", kek, sealed.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(wrapAssociatedData(keyId), "utf8"));
  decipher.setAuthTag(sealed.subarray(Math.max(sealed.length - TAG_BYTES, IV_BYTES)));
  try {
    return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
  } catch (error) {
    throw new UnavailableError(
      `the key-encryption key ${kekPath} does not unwrap key ${keyId} of the shared keyring in etcd: this node's KEK is not the control plane's (join the node again so it receives it), or the keyring in etcd was altered (restore etcd from a backup)`,
      { cause: error },
    );
  }
}

async function readKeyEncryptionKey(path: string): Promise<Buffer | undefined> {
  const info = await stat(path).catch((error: unknown) => {
    if (isMissing(error)) return undefined;
    throw error;
  });
  if (info === undefined) return undefined;
  checkPrivateMode(path, info.mode, "key-encryption key");
  const kek = await readFile(path);
  if (kek.length !== KEK_BYTES) throw new UnavailableError(`the key-encryption key ${path} has ${kek.length} bytes instead of ${KEK_BYTES}; restore it from another node or a backup`);
  return kek;
}

function wrapAssociatedData(keyId: string): string {
  return `holdfast/keyring/${keyId}`;
}
