/** Keyring administration as the API offers it: describe the keys and rotate the primary one. */
import type { Keyring } from "./keyring.ts";

/** The keyring without key material. */
export interface KeyringDescription {
  primaryKeyId: string;
  /** Oldest first. */
  keys: { id: string; createdAt?: string; primary: boolean }[];
}

/** The outcome of a rotation. */
export interface KeyRotation {
  /** The new key, used for every write from now on. */
  primaryKeyId: string;
  /** The key that was primary until this rotation; it still decrypts what it made. */
  previousPrimaryKeyId: string;
}

/** The keyring's key ids, their creation times and which one is primary; never key material. */
export function describeKeyring(keyring: Keyring): KeyringDescription {
  const primaryKeyId = keyring.primaryKeyId;
  return { primaryKeyId, keys: keyring.listKeys().map((key) => ({ id: key.id, createdAt: key.createdAt, primary: key.id === primaryKeyId })) };
}

/** Add a new primary key (persisted before it is used); older keys keep decrypting until a rewrap retires their ciphertexts. */
export async function rotateSecretKey(keyring: Keyring): Promise<KeyRotation> {
  const primaryKeyId = await keyring.rotate();
  // A rotation appends its key, so the key listed just before the new one is the one it replaced.
  const keys = keyring.listKeys();
  const index = keys.findIndex((key) => key.id === primaryKeyId);
  const previous = index > 0 ? keys[index - 1] : undefined;
  return { primaryKeyId, previousPrimaryKeyId: previous?.id ?? "" };
}
