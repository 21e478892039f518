/**
 * A full backup this node's agent was running when it stopped (status.run Running here, no job in this process):
 * its manifest decides how it ended. Committed means the data is whole (the writer stores the manifest last);
 * absent means it was cut short, and what it stored is deleted.
 */
import type { Backup, BackupRun } from "../api/index.ts";
import { BackupIntegrityError, deleteBackup, openBackup, type BackupKeyring } from "../backup/index.ts";
import { backupIdOf, repositoryOf } from "../dataprotection/index.ts";
import { NotFoundError } from "../errors/index.ts";
import type { Store } from "../store/index.ts";

/** What settling needs. */
export interface SettleDeps {
  store: Store;
  keyring: BackupKeyring;
  nodeName: string;
  /** Staging files older than this were left by the agent that stopped. */
  agentStartedAt: Date;
}

/** How the interrupted backup ended: Succeeded with its committed manifest, or Failed with its partial data deleted. */
export async function settleInterruptedBackup(deps: SettleDeps, backup: Backup): Promise<Pick<BackupRun, "state"> & Partial<BackupRun>> {
  const repository = await repositoryOf(deps.store, backup);
  const backupId = backupIdOf(backup);
  try {
    const reader = await openBackup({ repository, keyring: deps.keyring, backupId });
    if (reader.metadata["backupUid"] !== backup.metadata.uid) throw new BackupIntegrityError("manifest", { backupId, objectKey: backupId }, "the manifest belongs to another Backup");
    const sum = (pick: (s: (typeof reader.streams)[number]) => number): number => reader.streams.reduce((total, s) => total + pick(s), 0);
    const note = ` (committed just before the node agent on node ${deps.nodeName} restarted)`;
    return { state: "Succeeded", note, manifestSha256: reader.manifestSha256, plaintextBytes: sum((s) => s.plaintextBytes), storedBytes: sum((s) => s.storedBytes), completedAt: reader.completedAt };
  } catch (error) {
    if (!(error instanceof NotFoundError || error instanceof BackupIntegrityError)) throw error;
    const removed = await deleteBackup(repository, backupId);
    await repository.sweepIncompleteUploads(deps.agentStartedAt);
    const detail = error instanceof NotFoundError ? "it never completed" : `its data is damaged (${error.message})`;
    return { state: "Failed", reason: `the node agent on node ${deps.nodeName} stopped while this backup was running and ${detail}; its partial data (${removed} objects) was deleted; take a new backup` };
  }
}
