/** Fetch a backup's manifest, unwrap its data key with the keyring and authenticate the manifest. */
import { createHash } from "node:crypto";
import { InvalidError, NotFoundError } from "../errors/index.ts";
import { dataKeyAssociatedData, DATA_KEY_BYTES, deriveBackupKeys, type BackupKeys } from "./chunk-crypto.ts";
import { BackupIntegrityError } from "./integrity-error.ts";
import { openManifestBody, parseManifestEnvelope, type ManifestBody, type ManifestEnvelope } from "./manifest.ts";
import { assertBackupId, manifestKey } from "./object-keys.ts";
import type { BackupRepository } from "./repository.ts";
import type { BackupKeyring } from "./types.ts";

const MAX_MANIFEST_BYTES = 256 * 1024 * 1024;

/** Which backup to open, where, and with which keys. */
export interface OpenBackupOptions {
  repository: BackupRepository;
  keyring: BackupKeyring;
  backupId: string;
  /** The `manifestSha256` recorded when the backup was committed: refuses a manifest swapped for another authentic one. */
  expectedManifestSha256?: string;
}

/** An authenticated manifest and the keys it unlocks. */
export interface OpenedManifest {
  objectKey: string;
  envelope: ManifestEnvelope;
  body: ManifestBody;
  dataKey: Buffer;
  keys: BackupKeys;
  manifestSha256: string;
}

/** NotFoundError when the backup has no manifest (never completed, or deleted); BackupIntegrityError when it was changed. */
export async function openManifest(options: OpenBackupOptions): Promise<OpenedManifest> {
  assertBackupId(options.backupId);
  const objectKey = manifestKey(options.backupId);
  const location = { backupId: options.backupId, objectKey };
  let bytes: Buffer;
  try {
    bytes = await options.repository.get(objectKey, { maxBytes: MAX_MANIFEST_BYTES });
  } catch (error) {
    if (error instanceof NotFoundError) {
      throw new NotFoundError(
        `backup ${options.backupId} has no manifest in ${options.repository.location}: it never completed or was deleted`,
        { cause: error },
      );
    }
    if (error instanceof InvalidError) throw new BackupIntegrityError("size", location, "the manifest is larger than any Holdfast writes", error);
    throw error;
  }
  const manifestSha256 = createHash("sha256").update(bytes).digest("hex");
  if (options.expectedManifestSha256 !== undefined && options.expectedManifestSha256 !== manifestSha256) {
    throw new BackupIntegrityError("manifest", location, "the manifest is not the one recorded when the backup completed: it was replaced");
  }
  const envelope = parseManifestEnvelope(bytes, options.backupId, objectKey);
  const dataKey = unwrapDataKey(options.keyring, envelope, location);
  const keys = deriveBackupKeys(dataKey, options.backupId);
  const body = openManifestBody(keys, envelope, objectKey);
  return { objectKey, envelope, body, dataKey, keys, manifestSha256 };
}

function unwrapDataKey(keyring: BackupKeyring, envelope: ManifestEnvelope, location: { backupId: string; objectKey: string }): Buffer {
  let dataKey: Buffer;
  try {
    dataKey = keyring.decrypt(envelope.wrappedKey, dataKeyAssociatedData(envelope.backupId));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new BackupIntegrityError(
      "manifest",
      location,
      `the data key cannot be unwrapped (${reason}); use the keyring the backup was written with, or the manifest was changed`,
      error,
    );
  }
  if (dataKey.length !== DATA_KEY_BYTES) throw new BackupIntegrityError("manifest", location, "the unwrapped data key has the wrong length");
  return dataKey;
}
