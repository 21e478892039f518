/** BackupSchedule (dataprotection.kubeblocks.io/v1alpha1): cron schedules of backups of one policy, with retention. */
import { z } from "zod";
import { metadataSchema } from "./common.ts";
import { retentionPeriodSchema } from "./retention-period.ts";

// Five fields (minute hour day-of-month month day-of-week) of numbers, ranges, lists, steps and names.
const CRON_FIELD = /^[0-9A-Za-z*?,/-]+$/;

/** A five-field cron expression, as KubeBlocks' schedules use. */
export const cronExpressionSchema = z
  .string()
  .refine((text) => {
    const fields = text.trim().split(/\s+/);
    return fields.length === 5 && fields.every((field) => CRON_FIELD.test(field));
  }, "must be a five-field cron expression such as '0 18 * * *' (minute hour day-of-month month day-of-week)");

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
