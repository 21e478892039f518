/** How a Backup object is named inside its repository. */
import type { Backup } from "../api/index.ts";
import { InvalidError } from "../errors/index.ts";

const MAX_NAME_PART = 120;

/**
 * `<namespace>_<name>_<uid>`: unique per Backup object (a Backup deleted and created again under the same name gets
 * a new id, so an old backup's data is never taken for the new one's). `_` cannot occur in names, so it separates.
 */
export function backupIdOf(backup: Pick<Backup, "metadata">): string {
  const uid = backup.metadata.uid;
  if (uid === undefined || uid === "") throw new InvalidError(`backup ${backup.metadata.name} has no uid yet`);
  const namespace = backup.metadata.namespace ?? "default";
  return `${namespace}_${backup.metadata.name.slice(0, MAX_NAME_PART)}_${uid}`;
}
