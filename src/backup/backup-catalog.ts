/** Which backups a repository holds, deleting one, and cleaning up after writers that never finished. */
import { NotFoundError } from "../errors/index.ts";
import { BackupIntegrityError } from "./integrity-error.ts";
import { parseManifestEnvelope } from "./manifest.ts";
import {
  assertBackupId,
  backupDataPrefix,
  backupIdOfDataKey,
  backupIdOfManifestKey,
  manifestKey,
  MANIFESTS_PREFIX,
  DATA_PREFIX,
} from "./object-keys.ts";
import type { BackupRepository, RepositoryObject } from "./repository.ts";

/** Ids of the complete backups (those with a manifest), sorted. Says nothing of their integrity: use `verifyBackup`. */
export async function listCompleteBackups(repository: BackupRepository): Promise<string[]> {
  const ids: string[] = [];
  for await (const object of repository.list(MANIFESTS_PREFIX)) {
    const id = backupIdOfManifestKey(object.key);
    if (id !== undefined) ids.push(id);
  }
  return ids.sort();
}

/** Delete a backup: the manifest first (so it stops being complete at once), then its data. Returns objects deleted. */
export async function deleteBackup(repository: BackupRepository, backupId: string): Promise<number> {
  assertBackupId(backupId);
  await repository.delete(manifestKey(backupId));
  const keys: string[] = [];
  for await (const object of repository.list(backupDataPrefix(backupId))) keys.push(object.key);
  for (const key of keys) await repository.delete(key);
  return keys.length + 1;
}

/** What `cleanupIncompleteBackups` removed. */
export interface CleanupResult {
  /** Backups that had data but no manifest, now removed. */
  incompleteBackups: string[];
  objectsDeleted: number;
  /** Staging files or unfinished multipart uploads removed. */
  uploadsSwept: number;
}

/**
 * Remove what writers that crashed or were killed left behind, if nothing of it changed since `olderThan`:
 * data of backups without a manifest, data of earlier attempts beside a complete backup, and partial uploads.
 * Pick `olderThan` well before any backup that may still be running.
 */
export async function cleanupIncompleteBackups(repository: BackupRepository, olderThan: Date): Promise<CleanupResult> {
  const complete = new Set(await listCompleteBackups(repository));
  const byBackup = new Map<string, RepositoryObject[]>();
  for await (const object of repository.list(DATA_PREFIX)) {
    const id = backupIdOfDataKey(object.key);
    if (id !== undefined) byBackup.set(id, [...(byBackup.get(id) ?? []), object]);
  }
  const result: CleanupResult = { incompleteBackups: [], objectsDeleted: 0, uploadsSwept: 0 };
  for (const [id, objects] of byBackup) {
    if (objects.some((object) => object.lastModified >= olderThan)) continue;
    const keep = complete.has(id) ? await liveDataPrefix(repository, id) : undefined;
    if (complete.has(id) && keep === undefined) continue; // unreadable manifest: leave everything for a human
    const stale = objects.filter((object) => keep === undefined || !object.key.startsWith(keep));
    for (const object of stale) await repository.delete(object.key);
    result.objectsDeleted += stale.length;
    if (!complete.has(id)) result.incompleteBackups.push(id);
  }
  result.uploadsSwept = await repository.sweepIncompleteUploads(olderThan);
  result.incompleteBackups.sort();
  return result;
}

/** The data prefix a complete backup's manifest names, read without keys (used only to decide what to keep). */
async function liveDataPrefix(repository: BackupRepository, backupId: string): Promise<string | undefined> {
  try {
    const key = manifestKey(backupId);
    return parseManifestEnvelope(await repository.get(key), backupId, key).dataPrefix;
  } catch (error) {
    if (error instanceof BackupIntegrityError || error instanceof NotFoundError) return undefined;
    throw error;
  }
}
