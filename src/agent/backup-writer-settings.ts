/**
 * How a backup's writer is set up beyond the repository and keys: its worker threads (the BackupPolicy's
 * `holdfast.io/backup-process-max` annotation) and, for an incremental backup, the parent it builds on.
 */
import { BACKUP_PROCESS_MAX_ANNOTATION, type Backup, type BackupPolicy } from "../api/index.ts";
import { parentLinkOf, parentProblem, type IncrementalTarget, type ParentLink } from "../dataprotection/index.ts";
import type { Store } from "../store/index.ts";

/** The writer's settings, or why the backup cannot run. */
export type WriterSettings = { processMax?: number; parent?: ParentLink } | { problem: string };

const MAX_PROCESS_MAX = 16;

/** The process-max the policy asks for (undefined: the default), or a problem naming the annotation. */
export function processMaxOf(policy: BackupPolicy): number | { problem: string } | undefined {
  const text = policy.metadata.annotations?.[BACKUP_PROCESS_MAX_ANNOTATION];
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || value < 1 || value > MAX_PROCESS_MAX) {
    return { problem: `BackupPolicy ${policy.metadata.name} annotation ${BACKUP_PROCESS_MAX_ANNOTATION} must be a whole number from 1 to ${MAX_PROCESS_MAX}, not "${text}"` };
  }
  return value;
}

/** Read the policy's settings and the parent (checked again here: it may have changed since the backup started). */
export async function writerSettings(store: Store, backup: Backup, policy: BackupPolicy): Promise<WriterSettings> {
  const processMax = processMaxOf(policy);
  if (typeof processMax === "object") return processMax;
  const parent = await parentOf(store, backup);
  if (parent !== undefined && "problem" in parent) return parent;
  return { ...(processMax === undefined ? {} : { processMax }), ...(parent === undefined ? {} : { parent }) };
}

/** The parent of an incremental backup, if it names one, or why it cannot be one. */
async function parentOf(store: Store, backup: Backup): Promise<ParentLink | { problem: string } | undefined> {
  const parentName = backup.spec.parentBackupName;
  if (parentName === undefined || parentName === "") return undefined;
  const parent = await store.get<Backup>({ kind: "Backup", namespace: backup.metadata.namespace ?? "default", name: parentName });
  const problem = parentProblem(parentName, parent, incrementalTargetOf(backup));
  if (problem !== undefined || parent === undefined) return { problem: problem ?? `parent backup ${parentName} not found` };
  return parentLinkOf(parent);
}

/** Where a started backup comes from and goes (its status.source and repository). */
function incrementalTargetOf(backup: Backup): IncrementalTarget {
  const source = backup.status?.source;
  return { cluster: source?.cluster ?? "", component: source?.component ?? "", method: backup.spec.backupMethod, repoName: backup.status?.backupRepoName ?? "" };
}
