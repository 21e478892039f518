/** Opening a Completed Backup's data for reading: the repository it names, and the manifest digest it recorded. */
import { openBackup, openRepositoryAt, type BackupKeyring, type BackupReader, type BackupRepository, type RepositoryAddress } from "../backup/index.ts";
import type { Backup } from "../api/index.ts";
import { ConflictError, NotFoundError } from "../errors/index.ts";
import type { Store } from "../store/index.ts";
import { backupIdOf } from "./backup-id.ts";
import { findBackupRepo, openRepository, repositoryAddress } from "./repositories.ts";

/** What reading backups needs: the store (Backup, BackupRepo, Secrets) and the keyring that wraps data keys. */
export interface BackupAccess {
  store: Store;
  keyring: BackupKeyring;
}

/** The Backup object, or NotFoundError saying how to list them. */
export async function getBackup(store: Store, namespace: string, name: string): Promise<Backup> {
  const backup = await store.get<Backup>({ kind: "Backup", namespace, name });
  if (backup === undefined) {
    throw new NotFoundError(`backup ${name} not found in namespace ${namespace}; list them with holdfast backup list -n ${namespace}`, { subject: { kind: "Backup", name, group: "dataprotection.kubeblocks.io" } });
  }
  return backup;
}

/** The repository a Backup was written to. */
export async function repositoryOf(store: Store, backup: Backup): Promise<BackupRepository> {
  return openRepository(await findBackupRepo(store, backup.status?.backupRepoName), store);
}

/**
 * A reader over a Completed backup. The manifest must be the one the backup recorded when it completed, so an older
 * authentic backup put in its place is refused. ConflictError when the backup is not Completed.
 */
export async function openCompletedBackup(access: BackupAccess, backup: Backup): Promise<BackupReader> {
  return (await openCompletedBackupAt(access, backup)).reader;
}

/** `openCompletedBackup`, with the address of the repository it reads (for a process that reads it on its own). */
export async function openCompletedBackupAt(access: BackupAccess, backup: Backup): Promise<{ reader: BackupReader; address: RepositoryAddress }> {
  const id = `${backup.metadata.namespace ?? "default"}/${backup.metadata.name}`;
  const phase = backup.status?.phase ?? "New";
  if (phase !== "Completed") throw new ConflictError(`backup ${id} is ${phase}, not Completed; only a completed backup can be read`);
  const expected = backup.status?.manifestSha256;
  if (expected === undefined) throw new ConflictError(`backup ${id} has no recorded manifest digest, so its data cannot be trusted; take a new backup`);
  const address = await repositoryAddress(await findBackupRepo(access.store, backup.status?.backupRepoName), access.store);
  const repository = await openRepositoryAt(address);
  const reader = await openBackup({ repository, keyring: access.keyring, backupId: backupIdOf(backup), expectedManifestSha256: expected });
  return { reader, address };
}
