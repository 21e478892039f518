/**
 * Retries of a failed backup under BackupPolicy.spec.backoffLimit (KubeBlocks: how many times a failed backup is
 * retried before it is marked Failed), and which failures are worth a retry (pure).
 */
import { BackupIntegrityError } from "../backup/index.ts";
import { ConflictError, ForbiddenError, InputError, InvalidError, NotFoundError } from "../errors/index.ts";

/** Delay before the first retry; each next one waits twice as long, up to RETRY_MAX_MS. */
export const RETRY_FIRST_MS = 5000;
const RETRY_MAX_MS = 5 * 60_000;

/** What the server says when the data it sends is itself damaged: reading it again gives the same bytes. */
const DAMAGED_SOURCE = /checksum verification failed|invalid page|could not read block|corrupt/i;

/**
 * Could another attempt succeed? Not when the configuration is wrong (invalid, missing, forbidden), a complete backup
 * with its id exists, the repository's data does not check out, or the source reports damaged data; a lost connection, a killed or failing command may pass.
 */
export function isRetryable(error: unknown): boolean {
  const refused = [InvalidError, InputError, NotFoundError, ForbiddenError, ConflictError, BackupIntegrityError];
  if (refused.some((kind) => error instanceof kind)) return false;
  const message = error instanceof Error ? error.message : String(error);
  return !DAMAGED_SOURCE.test(message);
}

/** The delay before retry number `retriesSoFar + 1`, or undefined when `backoffLimit` (absent: 0) is used up. */
export function retryDelayMs(retriesSoFar: number, backoffLimit: number | undefined, firstMs = RETRY_FIRST_MS): number | undefined {
  if (retriesSoFar >= (backoffLimit ?? 0)) return undefined;
  return Math.min(RETRY_MAX_MS, firstMs * 2 ** retriesSoFar);
}
