/**
 * The messages between the node agent and a backup's own process (ADR 0044): one job in (over the IPC channel, so
 * the chunk key and repository credentials are never in argv or env), then from the process its progress (per
 * stored chunk), its calls into the SQL session the agent holds (answered by `reply`), and one outcome: what it
 * wrote and its peak memory, or its error as data (the restore process's mapping, src/restore-process/protocol.ts).
 */
import { availableParallelism } from "node:os";
import { z } from "zod";
import { repositoryAddressSchema, writeGrantSchema, writtenStreamSchema } from "../backup/index.ts";
import { failureError, failureSchema, reportFailure, type FailureReport } from "../restore-process/index.ts";

const count = z.int().nonnegative();

/** What one backup process does: write one stream of a backup, the engine's archive named by `archive`. */
export const archiveJobSchema = z.strictObject({
  archive: z.literal("postgresql-datadir"),
  repository: repositoryAddressSchema,
  grant: writeGrantSchema,
  /** The engine's job, checked by the engine's own schema in the process. */
  job: z.record(z.string(), z.unknown()),
  /** Worker threads encoding chunks (default: the writer's). */
  processMax: z.int().min(1).max(16).optional(),
});

/** See archiveJobSchema. */
export type ArchiveJob = z.infer<typeof archiveJobSchema>;

/** What the backup process says. */
export const archiveMessageSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("progress"), plaintextBytes: count, storedBytes: count }),
  z.strictObject({ type: z.literal("call"), id: z.int().positive(), name: z.string().min(1) }),
  z.strictObject({ type: z.literal("done"), written: writtenStreamSchema, peakBytes: count }),
  z.strictObject({ type: z.literal("failed"), failure: failureSchema }),
]);

/** See archiveMessageSchema. */
export type ArchiveMessage = z.infer<typeof archiveMessageSchema>;

/** A message from the backup process, or undefined when it is not one. */
export function parseArchiveMessage(value: unknown): ArchiveMessage | undefined {
  const parsed = archiveMessageSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/** The reply to call `id`: its answer, or the error it failed with, as data. */
export function replyTo(id: number, outcome: { value: unknown } | { error: unknown }): { type: "reply"; id: number; value?: unknown; error?: FailureReport } {
  return "error" in outcome ? { type: "reply", id, error: reportFailure(outcome.error) } : { type: "reply", id, value: outcome.value };
}

/** The error a reply's report stands for (in the process); a report that is not one is an internal error. */
export function replyError(report: unknown): Error {
  const parsed = failureSchema.safeParse(report);
  return parsed.success ? failureError(parsed.data) : failureError({ kind: "error", code: "INTERNAL", message: "the node agent answered a call with an error that is not of the protocol" });
}

export { failureError, reportFailure };

/**
 * Whether this process's main thread also encodes chunks: in an incremental (a grant with a parent) it reads only
 * what changed and mostly waits on its one worker, so it takes a chunk itself when the cores allow it (a core beyond
 * the worker threads) and the job did not set process-max. A full keeps its main thread to the reads (ADR 0044).
 */
export function callerLaneFor(job: { processMax?: number | undefined; grant: { base?: unknown } }, processMax: number, cores = availableParallelism()): boolean {
  return job.processMax === undefined && job.grant.base !== undefined && processMax < cores;
}
