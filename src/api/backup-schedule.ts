/** BackupSchedule (dataprotection.kubeblocks.io/v1alpha1): cron schedules of backups of one policy, with retention. */
import { z } from "zod";
import { metadataSchema } from "./common.ts";
import { cronExpressionProblem } from "./cron-expression.ts";
import { retentionPeriodSchema } from "./retention-period.ts";

export { cronExpressionProblem, parseCronExpression, type CronSchedule } from "./cron-expression.ts";

/** A cron expression as KubeBlocks' schedules use (five fields, UTC unless `CRON_TZ=Zone` leads); see cron-expression.ts. */
export const cronExpressionSchema = z.string().superRefine((text, context) => {
  const problem = cronExpressionProblem(text);
  if (problem !== undefined) context.addIssue({ code: "custom", message: `must be a five-field cron expression such as '0 18 * * *' (minute hour day-of-month month day-of-week): ${problem}` });
});

export const schedulePolicySchema = z.looseObject({
  name: z.string().optional(),
  backupMethod: z.string().min(1),
  enabled: z.boolean().default(false),
  cronExpression: cronExpressionSchema,
  retentionPeriod: retentionPeriodSchema.default("7d"),
});

export const backupScheduleSpecSchema = z.looseObject({
  backupPolicyName: z.string().min(1),
  startingDeadlineMinutes: z.int().min(0).max(1440).optional(),
  schedules: z.array(schedulePolicySchema).min(1, "a backup schedule needs at least one schedule"),
});

export const scheduleStatusSchema = z.object({
  phase: z.enum(["Running", "Failed"]).optional(),
  failureReason: z.string().optional(),
  lastScheduleTime: z.string().optional(),
  lastSuccessfulTime: z.string().optional(),
});

export const backupScheduleStatusSchema = z.object({
  phase: z.enum(["Available", "Failed"]).optional(),
  failureReason: z.string().optional(),
  observedGeneration: z.int().optional(),
  schedules: z.record(z.string(), scheduleStatusSchema).optional(),
});

export const backupScheduleSchema = z.object({
  apiVersion: z.literal("dataprotection.kubeblocks.io/v1alpha1"),
  kind: z.literal("BackupSchedule"),
  metadata: metadataSchema,
  spec: backupScheduleSpecSchema,
  status: backupScheduleStatusSchema.optional(),
});

export type SchedulePolicy = z.infer<typeof schedulePolicySchema>;
export type BackupScheduleSpec = z.infer<typeof backupScheduleSpecSchema>;
export type BackupScheduleStatus = z.infer<typeof backupScheduleStatusSchema>;
export type BackupSchedule = z.infer<typeof backupScheduleSchema>;

/**
 * Cluster.spec.backup (KubeBlocks' ClusterBackup): a schedule for the cluster's backups, kept as the BackupSchedule
 * `<cluster>-<component>-backup-schedule` of each component whose BackupPolicy has `method`.
 */
export const clusterBackupSchema = z.looseObject({
  enabled: z.boolean().default(false),
  retentionPeriod: retentionPeriodSchema.default("7d"),
  method: z.string().min(1),
  // The time of day KubeBlocks' backup policy templates schedule at.
  cronExpression: cronExpressionSchema.default("0 18 * * *"),
  startingDeadlineMinutes: z.int().min(0).max(1440).optional(),
  repoName: z.string().optional(),
});

export type ClusterBackup = z.infer<typeof clusterBackupSchema>;

/** The name of the BackupSchedule Cluster.spec.backup keeps for one component. */
export function backupScheduleName(cluster: string, component: string): string {
  return `${cluster}-${component}-backup-schedule`;
}
