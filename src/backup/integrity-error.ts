/** The error a reader or verifier raises when stored backup bytes are not what the writer stored. */
import { InvalidError } from "../errors/index.ts";

/** What is wrong with one stored object. */
export type IntegrityProblem =
  | "missing"
  | "unreadable"
  | "size"
  | "checksum"
  | "authentication"
  | "decompression"
  | "manifest";

/** Where the bad bytes are: always the object key, and the stream and chunk index when it is a chunk. */
export interface IntegrityLocation {
  backupId: string;
  objectKey: string;
  stream?: string;
  chunkIndex?: number;
}

/** Stored backup data is missing, changed, moved or reordered; nothing from the bad object was handed out. */
export class BackupIntegrityError extends InvalidError {
  readonly problem: IntegrityProblem;
  readonly location: IntegrityLocation;
  /** What is wrong, without the location. */
  readonly detail: string;

  constructor(problem: IntegrityProblem, location: IntegrityLocation, detail: string, cause?: unknown) {
    super(`${describeLocation(location)}: ${detail}`, cause === undefined ? {} : { cause });
    this.problem = problem;
    this.location = location;
    this.detail = detail;
  }
}

/** `backup B stream "base.tar" chunk 3 (object data/B/...)`, or the manifest. */
export function describeLocation(location: IntegrityLocation): string {
  const where =
    location.stream === undefined
      ? `backup ${location.backupId}`
      : `backup ${location.backupId} stream "${location.stream}" chunk ${location.chunkIndex ?? "?"}`;
  return `${where} (object ${location.objectKey})`;
}
