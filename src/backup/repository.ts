/** Where backups are stored: a flat namespace of objects, each written whole or not at all. */

/** One stored object, as listed. */
export interface RepositoryObject {
  key: string;
  size: number;
  lastModified: Date;
}

/** Options for reading an object. */
export interface GetOptions {
  /** Refuse objects larger than this many bytes (guards memory against a tampered repository). */
  maxBytes?: number;
}

/** Options for storing an object. */
export interface PutOptions {
  /**
   * Atomic for readers but durable only after `flush` of its key: a backup's chunks, made durable in one batch
   * before its manifest is stored (the manifest, written last and durable, is what makes the backup exist).
   */
  deferSync?: boolean;
}

/**
 * A backup repository. Keys are validated by `assertObjectKey`. `put` is atomic: a reader sees the old object,
 * no object, or the whole new object, never a part; once `put` resolves the object is durable (with `deferSync`:
 * once `flush` of its key resolves).
 */
export interface BackupRepository {
  /** Where the repository is, for messages (`file:///...`, `s3://bucket/prefix`); never holds credentials. */
  readonly location: string;
  /** Store `body` under `key`, replacing any object there, atomically and durably. */
  put(key: string, body: Buffer, options?: PutOptions): Promise<void>;
  /** Make the objects at `keys` (put with `deferSync`) durable; resolves once they all are. */
  flush(keys: readonly string[]): Promise<void>;
  /** The whole object; NotFoundError when there is none. */
  get(key: string, options?: GetOptions): Promise<Buffer>;
  /** Every object whose key starts with `prefix`, in no promised order. */
  list(prefix: string): AsyncIterable<RepositoryObject>;
  /** Remove the object; succeeds when it is already gone. */
  delete(key: string): Promise<void>;
  /**
   * Remove partial uploads (staging files, unfinished multipart uploads) started before `olderThan`, only those of
   * keys under `under` when given (a writer session whose writers are gone); returns how many.
   */
  sweepIncompleteUploads(olderThan: Date, under?: string): Promise<number>;
}
