/** Re-encrypting everything the keyring protects under its primary key, and leaving no older ciphertext on disk. */
import type { Resource } from "../../api/index.ts";
import { ConflictError, NotFoundError } from "../../errors/index.ts";
import { UNREADABLE_ANNOTATION, type Store } from "../../store/index.ts";
import type { Keyring } from "./keyring.ts";

/** A database outside the object store that keeps keyring ciphertexts (the authentication database). */
export interface KeyringCiphertextHolder {
  /** Re-encrypt its ciphertexts made with an older key under the primary key; returns how many. */
  rewrapWithPrimaryKey(): Promise<number>;
  /** Rewrite its files so superseded data is gone from disk. */
  scrubDeletedData(): Promise<void>;
}

/** What a rewrap works on: the open object store, the authentication database and the keyring they share. */
export interface RewrapTargets {
  store: Store;
  auth: KeyringCiphertextHolder;
  keyring: Keyring;
}

/** What a rewrap did. */
export interface RewrapResult {
  /** The key everything is now encrypted with. */
  primaryKeyId: string;
  /** Secrets re-encrypted (those already under the primary key are left alone). */
  secrets: number;
  /** Keyring ciphertexts re-encrypted in the authentication database (TOTP seeds). */
  authRecords: number;
  /** Change-history entries dropped because they, or entries before them, held older ciphertexts. */
  historyPurged: number;
}

/** How often one Secret is re-read and written again when controllers keep changing it. */
const ATTEMPTS_PER_SECRET = 5;

/**
 * Re-encrypt every Secret and every authentication record under the keyring's primary key, drop the change history
 * that still holds older ciphertexts (watches from before it get 410 Gone and list again), then scrub both databases'
 * files. Secrets are written through the store's normal update path with their resourceVersion, so a concurrent
 * write by a controller wins and the Secret is re-read; its new version is made with the primary key anyway.
 */
export async function rewrapSecrets(targets: RewrapTargets): Promise<RewrapResult> {
  const { store, auth, keyring } = targets;
  const primaryKeyId = keyring.primaryKeyId;
  const secrets = await rewrapStoredSecrets(store);
  const authRecords = await auth.rewrapWithPrimaryKey();
  if (keyring.primaryKeyId !== primaryKeyId) {
    throw new ConflictError(`the primary key changed from ${primaryKeyId} to ${keyring.primaryKeyId} during the rewrap; run the rewrap again`);
  }
  const { purged } = await store.purgeStaleHistory();
  await store.scrubDeletedData();
  await auth.scrubDeletedData();
  return { primaryKeyId, secrets, authRecords, historyPurged: purged };
}

async function rewrapStoredSecrets(store: Store): Promise<number> {
  const { items } = await store.list("Secret");
  let rewrapped = 0;
  for (const secret of items) {
    // One that no longer decrypts cannot be re-encrypted: it stays as it is (a get names it), the rest go on.
    if (secret.metadata.annotations?.[UNREADABLE_ANNOTATION] !== undefined) continue;
    if (await rewriteSecret(store, secret)) rewrapped += 1;
  }
  return rewrapped;
}

/**
 * Write a Secret back unchanged: the store writes it again only when its stored form is stale, which re-encrypts it.
 * True when it was written; false when it was already current or has been deleted meanwhile.
 */
async function rewriteSecret(store: Store, listed: Resource): Promise<boolean> {
  let current: Resource | undefined = listed;
  for (let attempt = 1; current !== undefined; attempt += 1) {
    try {
      const written: Resource = await store.update(current);
      return written.metadata.resourceVersion !== current.metadata.resourceVersion;
    } catch (error) {
      if (error instanceof NotFoundError) return false;
      if (!(error instanceof ConflictError)) throw error;
      if (attempt >= ATTEMPTS_PER_SECRET) {
        const name = `${current.metadata.namespace ?? ""}/${current.metadata.name}`;
        throw new ConflictError(`Secret ${name} kept changing while it was re-encrypted; run the rewrap again`, { cause: error });
      }
      current = await store.get({ kind: "Secret", namespace: current.metadata.namespace, name: current.metadata.name });
    }
  }
  return false;
}
