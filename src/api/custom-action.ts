/**
 * What a `Custom` OpsRequest asks of one instance (ADR 0054): `Instance.spec.customAction`, written by the OpsRequest
 * controller only, carried out once per id by the instance's node agent, which reports in `status.customAction`.
 */
import { z } from "zod";

/** One argument's value: typed by the definition's schema before it reaches an engine. */
export const actionArgumentSchema = z.union([z.string(), z.number(), z.boolean()]);

/** One engine action to run, in order. */
export const customActionStepSchema = z.object({
  /** The engine action (its allow-list name, e.g. `checkpoint`). */
  action: z.string().min(1),
  arguments: z.record(z.string(), actionArgumentSchema),
  /** Ignore: a failure of this step does not stop the next ones. */
  failurePolicy: z.enum(["Fail", "Ignore"]).optional(),
});

/** Instance.spec.customAction. */
export const customActionRequestSchema = z.object({
  /** New for every request (the OpsRequest's uid); the outcome is reported under it. */
  id: z.string().min(1),
  /** The OpsRequest asking, `namespace/name`, for events. */
  opsRequest: z.string(),
  steps: z.array(customActionStepSchema).min(1),
  /** How long each step may take, in seconds. */
  timeoutSeconds: z.int().min(1),
  requestedAt: z.string(),
});

/** Instance.status.customAction: how spec.customAction with the same id went (written by the node agent only). */
export const customActionStatusSchema = z.object({
  id: z.string(),
  result: z.enum(["Running", "Succeeded", "Failed"]),
  /** What each step did, or the engine's message when it failed (never a secret). */
  message: z.string().optional(),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
});

export type ActionArgumentValue = z.infer<typeof actionArgumentSchema>;
export type CustomActionStep = z.infer<typeof customActionStepSchema>;
export type CustomActionRequest = z.infer<typeof customActionRequestSchema>;
export type CustomActionStatus = z.infer<typeof customActionStatusSchema>;
