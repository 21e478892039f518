/**
 * A data-directory backup's archive as plain data (ADR 0044): what it needs of the server, given once (the data
 * directory, the WAL settings, for an incremental where the WAL was flushed to when the backup began), and the two
 * calls it makes into the SQL session that holds the backup — `start` (pg_backup_start, after its checkpoint) and
 * `stop` (pg_backup_stop: the label) — with their answers checked on arrival, so that the archive can run in a
 * process of its own while the session stays with the node agent.
 */
import { z } from "zod";
import { InvalidError } from "../../errors/index.ts";

const lsn = z.string().regex(/^[0-9A-Fa-f]{1,8}\/[0-9A-Fa-f]{1,8}$/);

export const datadirJobSchema = z.strictObject({
  dataDirectory: z.string().startsWith("/"),
  facts: z.strictObject({
    fullPageWrites: z.boolean(),
    blockSize: z.int().positive(),
    relationSegmentBlocks: z.int(),
    walSegmentSize: z.int().positive(),
    systemIdentifier: z.string().regex(/^\d+$/),
  }),
  /** An incremental's: the flushed WAL position and timeline when the backup began (the WAL read early ends there). */
  flushed: z.strictObject({ timeline: z.int().positive(), lsn }).optional(),
});

/** See datadirJobSchema. */
export type DatadirJob = z.infer<typeof datadirJobSchema>;

/** Where the backup started, as `pg_backup_start` and the checkpoint it waited for tell. */
const startedSchema = z.strictObject({
  startLsn: lsn,
  timeline: z.int().positive(),
  /** How long pg_backup_start (its checkpoint) took. */
  checkpointMs: z.number().nonnegative(),
  /** The clock (ms since the epoch) just before pg_backup_start: no file was read before it. */
  startedAt: z.number().nonnegative(),
});

/** See startedSchema. */
export type Started = z.infer<typeof startedSchema>;

/** What `pg_backup_stop` returns: the stop position, the backup label and the tablespace map. */
const stoppedSchema = z.strictObject({ lsn, labelfile: z.string(), spcmapfile: z.string().nullable() });

/** See stoppedSchema. */
export type Stopped = z.infer<typeof stoppedSchema>;

/** The SQL session's side of the archive. */
export interface DatadirSession {
  start(): Promise<Started>;
  stop(): Promise<Stopped>;
}

/**
 * The session with `pg_backup_start` begun at once: its checkpoint runs while the archive's process starts, and the
 * archive's `start` takes its answer (or its error) when it asks. Nothing is read before the archive asks, so the
 * answer's `startedAt` still precedes every read.
 */
export function withStartBegun(session: DatadirSession): DatadirSession {
  const started = session.start();
  // Asked for later, or never when the archive fails first: its error is reported by whoever asks.
  started.catch(() => undefined);
  return { start: () => started, stop: () => session.stop() };
}

/** Answer a call by name (what the archive's own process asked). */
export function sessionCall(session: DatadirSession, name: string): Promise<unknown> {
  if (name === "start") return session.start();
  if (name === "stop") return session.stop();
  return Promise.reject(new InvalidError(`the data-directory archive has no call "${name}"`));
}

/** The session as calls by name to whoever holds it (the node agent), each answer checked. */
export function sessionOverCalls(call: (name: string) => Promise<unknown>): DatadirSession {
  return {
    start: async () => startedSchema.parse(await call("start")),
    stop: async () => stoppedSchema.parse(await call("stop")),
  };
}
