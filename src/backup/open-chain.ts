/**
 * The links of an incremental backup's chain, opened for reading: each earlier backup whose chunks it reuses must
 * still have its manifest, authentic under the keyring and created when the chain says; a missing, damaged or
 * replaced link is refused with its name, before any data is read.
 */
import { NotFoundError } from "../errors/index.ts";
import { BackupIntegrityError } from "./integrity-error.ts";
import type { ChainLink } from "./manifest.ts";
import { manifestKey } from "./object-keys.ts";
import { openManifest, type OpenBackupOptions } from "./open-manifest.ts";

/** Each link's chunk key, by backup id. */
export async function openChainKeys(options: OpenBackupOptions, chain: readonly ChainLink[]): Promise<Map<string, Buffer>> {
  const keys = new Map<string, Buffer>();
  for (const link of chain) keys.set(link.backupId, await openLink(options, link));
  return keys;
}

async function openLink(options: OpenBackupOptions, link: ChainLink): Promise<Buffer> {
  const location = { backupId: link.backupId, objectKey: manifestKey(link.backupId) };
  const ofChain = `it is a link of the incremental chain of backup ${options.backupId}, which cannot be read without it`;
  let opened;
  try {
    opened = await openManifest({ repository: options.repository, keyring: options.keyring, backupId: link.backupId });
  } catch (error) {
    if (error instanceof NotFoundError) throw new BackupIntegrityError("missing", location, `the manifest is missing (deleted, or never completed); ${ofChain}`, error);
    if (error instanceof BackupIntegrityError) throw new BackupIntegrityError(error.problem, error.location, `${error.detail}; ${ofChain}`, error);
    throw error;
  }
  opened.dataKey.fill(0);
  opened.keys.manifestKey.fill(0);
  if (opened.envelope.createdAt !== link.createdAt) {
    opened.keys.chunkKey.fill(0);
    throw new BackupIntegrityError("manifest", location, `this backup was created at ${opened.envelope.createdAt}, not at ${link.createdAt} like the one the chain was built on: it was deleted and taken again; ${ofChain}`);
  }
  return opened.keys.chunkKey;
}
