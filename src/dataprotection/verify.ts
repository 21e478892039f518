/** `holdfast backup verify`: re-read every byte of a Completed backup through the format's checks. */
import { verifyBackup, type VerificationReport } from "../backup/index.ts";
import { ConflictError } from "../errors/index.ts";
import { backupIdOf } from "./backup-id.ts";
import { getBackup, repositoryOf, type BackupAccess } from "./open-completed.ts";

/** Verify backup `namespace/name`; problems are reported, not thrown. ConflictError when it is not Completed. */
export async function verifyBackupObject(access: BackupAccess, namespace: string, name: string): Promise<VerificationReport> {
  const backup = await getBackup(access.store, namespace, name);
  const phase = backup.status?.phase ?? "New";
  if (phase !== "Completed") throw new ConflictError(`backup ${namespace}/${name} is ${phase}, not Completed; only a completed backup can be verified`);
  const repository = await repositoryOf(access.store, backup);
  const expected = backup.status?.manifestSha256;
  return verifyBackup({ repository, keyring: access.keyring, backupId: backupIdOf(backup), ...(expected === undefined ? {} : { expectedManifestSha256: expected }) });
}
