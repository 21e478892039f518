/** Backup (dataprotection.kubeblocks.io/v1alpha1): one backup of a cluster component, a state machine in status. */
import { z } from "zod";
import { conditionSchema, metadataSchema } from "./common.ts";
import { backupMethodSchema, backupTargetSchema } from "./backup-policy.ts";
import { retentionPeriodSchema } from "./retention-period.ts";

/** Finalizer the backup controller holds until a backup's data is deleted (or kept, with deletionPolicy Retain). */
export const BACKUP_FINALIZER = "dataprotection.kubeblocks.io/finalizer";
/** Annotation with the source cluster's spec as JSON when the backup started (KubeBlocks' own). */
export const CLUSTER_SNAPSHOT_ANNOTATION = "kubeblocks.io/cluster-snapshot";

export const backupSpecSchema = z.looseObject({
  backupPolicyName: z.string().min(1),
  backupMethod: z.string().min(1),
  deletionPolicy: z.enum(["Delete", "Retain"]).default("Delete"),
  retentionPeriod: retentionPeriodSchema.optional(),
  parentBackupName: z.string().optional(),
});

/** Backup phases as KubeBlocks defines them. */
export const backupPhaseSchema = z.enum(["New", "InProgress", "Running", "Completed", "Failed", "Deleting"]);

export const backupTimeRangeSchema = z.object({
  timeZone: z.string().optional(),
  start: z.string().optional(),
  end: z.string().optional(),
});

/** How far a running backup has come (Holdfast's own field). */
export const backupProgressSchema = z.object({
  /** Database bytes read and stored so far. */
  bytesDone: z.number().nonnegative(),
  /** Bytes as stored (compressed, encrypted). */
  storedBytes: z.number().nonnegative(),
  /** Database bytes per second since the start. */
  bytesPerSecond: z.number().nonnegative(),
  /** Database bytes expected in all, when the method can estimate them before it starts (PostgreSQL's database sizes). */
  estimatedTotalBytes: z.number().nonnegative().optional(),
  /** Seconds left at the current rate, while bytesDone is below the estimate. */
  etaSeconds: z.number().nonnegative().optional(),
  updatedAt: z.string(),
});

/** Where a backup came from (Holdfast's own field): what a restore must match. */
export const backupSourceSchema = z.object({
  cluster: z.string(),
  component: z.string(),
  instance: z.string(),
  engine: z.string(),
  version: z.string(),
});

/**
 * What the node agent running a backup reports (Holdfast's own field, written by that agent alone; see
 * docs/adr/0022-backups-through-the-node-agent.md). The backup controller turns it into phase and sizes.
 */
export const backupRunSchema = z.object({
  /** The node whose agent runs the backup (the node the target instance is bound to). */
  node: z.string(),
  /** Running from before a byte is written; Succeeded once the manifest is committed; Stopped: archiving ended on deletion. */
  state: z.enum(["Running", "Succeeded", "Failed", "Stopped"]),
  /** When the agent started: for a continuous backup, the moment the primary began handing its log over. */
  startedAt: z.string(),
  finishedAt: z.string().optional(),
  /** Why it failed. */
  reason: z.string().optional(),
  /** Said of a backup found committed after the agent restarted. */
  note: z.string().optional(),
  /** The committed data (Succeeded). */
  manifestSha256: z.string().optional(),
  plaintextBytes: z.number().nonnegative().optional(),
  storedBytes: z.number().nonnegative().optional(),
  completedAt: z.string().optional(),
});

export const backupStatusSchema = z.object({
  formatVersion: z.string().optional(),
  phase: backupPhaseSchema.optional(),
  expiration: z.string().optional(),
  startTimestamp: z.string().optional(),
  completionTimestamp: z.string().optional(),
  duration: z.string().optional(),
  totalSize: z.string().optional(),
  failureReason: z.string().optional(),
  backupRepoName: z.string().optional(),
  path: z.string().optional(),
  timeRange: backupTimeRangeSchema.optional(),
  target: backupTargetSchema.extend({ selectedTargetPods: z.array(z.string()).optional() }).optional(),
  backupMethod: backupMethodSchema.optional(),
  conditions: z.array(conditionSchema).optional(),
  observedGeneration: z.int().optional(),
  /** SHA-256 of the committed manifest: a restore refuses any other manifest, so an older backup cannot be replayed. */
  manifestSha256: z.string().optional(),
  /** Bytes as stored in the repository (compressed and encrypted). */
  storedSize: z.string().optional(),
  progress: backupProgressSchema.optional(),
  source: backupSourceSchema.optional(),
  /** Failed attempts retried so far, up to the BackupPolicy's backoffLimit (Holdfast's own field). */
  retries: z.int().nonnegative().optional(),
  /** Why the last retried attempt failed (Holdfast's own field). */
  lastRetryReason: z.string().optional(),
  run: backupRunSchema.optional(),
});

export const backupSchema = z.object({
  apiVersion: z.literal("dataprotection.kubeblocks.io/v1alpha1"),
  kind: z.literal("Backup"),
  metadata: metadataSchema,
  spec: backupSpecSchema,
  status: backupStatusSchema.optional(),
});

export type BackupSpec = z.infer<typeof backupSpecSchema>;
export type BackupPhase = z.infer<typeof backupPhaseSchema>;
export type BackupProgress = z.infer<typeof backupProgressSchema>;
export type BackupSource = z.infer<typeof backupSourceSchema>;
export type BackupRun = z.infer<typeof backupRunSchema>;
export type BackupStatus = z.infer<typeof backupStatusSchema>;
export type Backup = z.infer<typeof backupSchema>;

/** `1h2m3.5s`, as Go prints a metav1.Duration. */
export function formatGoDuration(ms: number): string {
  const totalSeconds = Math.max(0, ms) / 1000;
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = Math.round((totalSeconds % 60) * 1000) / 1000;
  return `${hours > 0 ? `${hours}h` : ""}${hours > 0 || minutes > 0 ? `${minutes}m` : ""}${seconds}s`;
}
