/**
 * An incremental backup (`spec.parentBackupName`, KubeBlocks' field) builds on a Completed backup of the same
 * component, method and repository: its chunks reference the parent's chain instead of storing unchanged content
 * again. These are the rules, pure, checked when the backup starts and again by the node agent that runs it.
 */
import type { Backup } from "../api/index.ts";
import { backupIdOf } from "./backup-id.ts";

/** What the writer needs of the parent: its repository id and the manifest digest it recorded. */
export interface ParentLink {
  backupId: string;
  expectedManifestSha256: string;
}

/** Where the new backup will come from and go. */
export interface IncrementalTarget {
  cluster: string;
  component: string;
  method: string;
  repoName: string;
}

/** Why `parent` cannot be the parent of an incremental backup of `target`, or undefined (pure). */
export function parentProblem(parentName: string, parent: Backup | undefined, target: IncrementalTarget): string | undefined {
  if (parent === undefined) return `parent backup ${parentName} not found; name a Completed backup of the same cluster in parentBackupName`;
  const status = parent.status;
  if (status?.phase !== "Completed") return `parent backup ${parentName} is ${status?.phase ?? "New"}; an incremental backup builds only on a Completed one`;
  if (parent.metadata.deletionTimestamp !== undefined) return `parent backup ${parentName} is being deleted`;
  if (status.manifestSha256 === undefined) return `parent backup ${parentName} has no recorded manifest digest; take a full backup`;
  return sourceMismatch(parentName, parent, target);
}

/** The parent must come from the same component, by the same method, into the same repository. */
function sourceMismatch(parentName: string, parent: Backup, target: IncrementalTarget): string | undefined {
  const source = parent.status?.source;
  if (parent.spec.backupMethod !== target.method) return `parent backup ${parentName} was taken with ${parent.spec.backupMethod}, not ${target.method}`;
  const from = `${source?.cluster ?? "?"}/${source?.component ?? "?"}`;
  if (from !== `${target.cluster}/${target.component}`) return `parent backup ${parentName} is of ${from}, not ${target.cluster}/${target.component}`;
  const repo = parent.status?.backupRepoName;
  if (repo !== target.repoName) return `parent backup ${parentName} is in BackupRepo ${repo ?? "?"}, not ${target.repoName}; a chain lives in one repository`;
  return undefined;
}

/** The parent as the writer opens it (call after `parentProblem` found none). */
export function parentLinkOf(parent: Backup): ParentLink {
  return { backupId: backupIdOf(parent), expectedManifestSha256: parent.status?.manifestSha256 ?? "" };
}
