/**
 * Object keys in a backup repository and the layout of a backup inside it:
 * `manifests/<backupId>.json` (written last; its presence is what makes a backup complete) and
 * `data/<backupId>/<session>/<stream ordinal>/<chunk index>` (the encrypted chunks).
 */
import { InvalidError } from "../errors/index.ts";

// A segment never starts with a dot: names starting with "." are the repositories' own (staging files).
const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}$/;
const PREFIX = /^[A-Za-z0-9._/-]*$/;
const BACKUP_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
const MAX_KEY_LENGTH = 1000;

export const MANIFESTS_PREFIX = "manifests/";
export const DATA_PREFIX = "data/";
const MANIFEST_SUFFIX = ".json";

/** Throws unless `key` is slash-separated segments of letters, digits, `.`, `_`, `-`, none starting with a dot. */
export function assertObjectKey(key: string): void {
  const valid = key.length > 0 && key.length <= MAX_KEY_LENGTH && key.split("/").every((segment) => SEGMENT.test(segment));
  if (!valid) {
    throw new InvalidError(
      `invalid object key "${key.slice(0, 80)}": use segments of letters, digits, ".", "_" and "-" separated by "/", none starting with "."`,
    );
  }
}

/** Throws unless `prefix` could start a valid key (it may end in the middle of a segment or with "/"). */
export function assertKeyPrefix(prefix: string): void {
  if (!PREFIX.test(prefix) || prefix.startsWith("/") || prefix.split("/").some((segment) => segment.startsWith("."))) {
    throw new InvalidError(`invalid key prefix "${prefix.slice(0, 80)}": use letters, digits, ".", "_", "-" and "/"`);
  }
}

/** Throws unless `backupId` is a single key segment. */
export function assertBackupId(backupId: string): void {
  if (!BACKUP_ID.test(backupId)) {
    throw new InvalidError(
      `invalid backup id "${backupId.slice(0, 80)}": use 1-200 letters, digits, ".", "_" or "-", starting with a letter or digit`,
    );
  }
}

/** The key of a backup's manifest. */
export function manifestKey(backupId: string): string {
  return `${MANIFESTS_PREFIX}${backupId}${MANIFEST_SUFFIX}`;
}

/** The backup id a manifest key names, or undefined when `key` is not a manifest key. */
export function backupIdOfManifestKey(key: string): string | undefined {
  if (!key.startsWith(MANIFESTS_PREFIX) || !key.endsWith(MANIFEST_SUFFIX)) return undefined;
  const id = key.slice(MANIFESTS_PREFIX.length, key.length - MANIFEST_SUFFIX.length);
  return BACKUP_ID.test(id) ? id : undefined;
}

/** Everything one backup's writers stored, across sessions. */
export function backupDataPrefix(backupId: string): string {
  return `${DATA_PREFIX}${backupId}/`;
}

/** Where one writer session of a backup puts its chunks. */
export function sessionDataPrefix(backupId: string, session: string): string {
  return `${backupDataPrefix(backupId)}${session}/`;
}

/** The key of one chunk. */
export function chunkKey(sessionPrefix: string, ordinal: number, index: number): string {
  return `${sessionPrefix}${String(ordinal).padStart(4, "0")}/${String(index).padStart(8, "0")}`;
}

/** The backup id a data key belongs to, or undefined when `key` is not under `data/`. */
export function backupIdOfDataKey(key: string): string | undefined {
  if (!key.startsWith(DATA_PREFIX)) return undefined;
  const id = key.slice(DATA_PREFIX.length).split("/")[0];
  return id !== undefined && BACKUP_ID.test(id) ? id : undefined;
}

const STREAM_SEGMENT = /^[A-Za-z0-9_@+=-][A-Za-z0-9._@+=-]{0,254}$/;

/** Throws unless `name` is a stream name like `base.tar` or `wal/000000010000000000000003`. */
export function assertStreamName(name: string): void {
  if (name.length === 0 || name.length > 255 || !name.split("/").every((segment) => STREAM_SEGMENT.test(segment))) {
    throw new InvalidError(
      `invalid stream name "${name.slice(0, 80)}": use up to 255 letters, digits and "._@+=-", with "/" between parts that do not start with "."`,
    );
  }
}
