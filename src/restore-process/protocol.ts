/**
 * The messages between the node agent and a restore's own process (ADR 0050): one job in (over the IPC channel, so
 * the chunk keys and repository credentials are never in argv or env), progress and one outcome out. Pure: parsing
 * and the mapping of errors to data and back, so that a damaged chunk or a refused member fails the restore with the
 * same error class and message as when the work ran in the control plane.
 */
import { z } from "zod";
import { BackupIntegrityError, readGrantSchema, repositoryAddressSchema, type IntegrityProblem } from "../backup/index.ts";
import { ConflictError, ForbiddenError, InternalError, InvalidError, NotFoundError, UnavailableError, type HoldfastError } from "../errors/index.ts";

const count = z.int().nonnegative();

/** What one restore process does: unpack one tar stream of one backup into an empty directory. */
export const unpackJobSchema = z.strictObject({
  repository: repositoryAddressSchema,
  grant: readGrantSchema,
  stream: z.string().min(1),
  directory: z.string().startsWith("/"),
  /** Who gets the files (the process runs as root); absent: they stay the process's own. */
  owner: z.strictObject({ uid: count, gid: count }).optional(),
  /** Base names never written, at any depth. */
  excluded: z.array(z.string().min(1)),
  /** Worker threads decoding chunks (default: the reader's). */
  processMax: z.int().min(0).max(16).optional(),
  /** The node agent's module compile cache (a directory of its own, 0700): the process loads its modules through it (child.ts). */
  compileCache: z.string().startsWith("/").optional(),
});

/** See unpackJobSchema. */
export type UnpackJob = z.infer<typeof unpackJobSchema>;

const integrityProblems = ["missing", "unreadable", "size", "checksum", "authentication", "decompression", "manifest"] as const satisfies readonly IntegrityProblem[];

/** An error as data, as either process of its own reports it (`reportFailure`): the restore's and the backup's. */
export const failureSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("integrity"),
    problem: z.enum(integrityProblems),
    location: z.strictObject({ backupId: z.string(), objectKey: z.string(), stream: z.string().optional(), chunkIndex: count.optional() }),
    detail: z.string(),
  }),
  z.strictObject({ kind: z.literal("error"), code: z.string(), message: z.string() }),
]);

/** An error as data. */
export type FailureReport = z.infer<typeof failureSchema>;

/** What the restore process says: bytes read since the last report, the summary at the end, or why it failed. */
export const childMessageSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("progress"), bytes: count }),
  z.strictObject({ type: z.literal("done"), files: count, directories: count, bytes: count, peakBytes: count }),
  z.strictObject({ type: z.literal("failed"), failure: failureSchema }),
]);

/** See childMessageSchema. */
export type ChildMessage = z.infer<typeof childMessageSchema>;

/** `error` as data: an integrity error keeps where the bad bytes are, any other its code and message. */
export function reportFailure(error: unknown): FailureReport {
  if (error instanceof BackupIntegrityError) {
    const { backupId, objectKey, stream, chunkIndex } = error.location;
    const location = { backupId, objectKey, ...(stream === undefined ? {} : { stream }), ...(chunkIndex === undefined ? {} : { chunkIndex }) };
    return { kind: "integrity", problem: error.problem, location, detail: error.detail };
  }
  const code = error instanceof Error && "code" in error && typeof error.code === "string" ? error.code : "INTERNAL";
  return { kind: "error", code, message: error instanceof Error ? error.message : String(error) };
}

const byCode: Readonly<Record<string, new (message: string) => HoldfastError>> = {
  INVALID: InvalidError,
  NOT_FOUND: NotFoundError,
  CONFLICT: ConflictError,
  FORBIDDEN: ForbiddenError,
  UNAVAILABLE: UnavailableError,
};

/**
 * The error a report stands for: a BackupIntegrityError naming the chunk, a Holdfast error of the same code (a refused
 * member is an InvalidError naming it), or an UnavailableError for a system error (ENOSPC, EACCES: worth a retry).
 */
export function failureError(report: FailureReport): Error {
  if (report.kind === "integrity") {
    const { backupId, objectKey, stream, chunkIndex } = report.location;
    const location = { backupId, objectKey, ...(stream === undefined ? {} : { stream }), ...(chunkIndex === undefined ? {} : { chunkIndex }) };
    return new BackupIntegrityError(report.problem, location, report.detail);
  }
  const known = byCode[report.code];
  if (known !== undefined) return new known(report.message);
  if (/^E[A-Z]+$/.test(report.code)) return new UnavailableError(report.message);
  return new InternalError(report.message);
}

/** A message from the restore process, or undefined when it is not one (the process is then not trusted further). */
export function parseChildMessage(value: unknown): ChildMessage | undefined {
  const parsed = childMessageSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}
