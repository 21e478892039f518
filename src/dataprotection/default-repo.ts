/** The local repository every home starts with, as `holdfast init` users expect a place for backups to go. */
import { DEFAULT_REPO_ANNOTATION, type BackupRepo } from "../api/index.ts";
import { AlreadyExistsError } from "../errors/index.ts";
import type { Store } from "../store/index.ts";

/** Name of the BackupRepo created at start. */
export const DEFAULT_BACKUP_REPO = "local";

/** The default local BackupRepo rooted at `path`. */
export function defaultBackupRepo(path: string): BackupRepo {
  return {
    apiVersion: "dataprotection.kubeblocks.io/v1alpha1",
    kind: "BackupRepo",
    metadata: { name: DEFAULT_BACKUP_REPO, annotations: { [DEFAULT_REPO_ANNOTATION]: "true" } },
    spec: { storageProviderRef: "local", accessMethod: "Tool", pvReclaimPolicy: "Retain", config: { path } },
  };
}

/** Create the default repository unless one by that name exists (an operator's changes to it are kept). */
export async function ensureDefaultBackupRepo(store: Store, path: string): Promise<void> {
  try {
    await store.create(defaultBackupRepo(path));
  } catch (error) {
    if (!(error instanceof AlreadyExistsError)) throw error;
  }
}
