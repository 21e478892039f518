/** Shapes shared by the writer, the reader and verification. */

/** The part of Holdfast's keyring a backup uses: wrap and unwrap its data key (`Keyring` fits). */
export interface BackupKeyring {
  encrypt(plaintext: Buffer, associatedData: string): string;
  decrypt(ciphertext: string, associatedData: string): Buffer;
}

/** How chunks are compressed before encryption. */
export type Compression = "zstd" | "none";

/** Progress of a backup, restore or verification, reported after each chunk. */
export interface TransferProgress {
  /** Plaintext bytes done: stored durably (writer), handed out (reader) or checked (verify). */
  plaintextBytes: number;
  /** Stored (compressed, encrypted) bytes of those chunks. */
  storedBytes: number;
  chunks: number;
  elapsedMs: number;
  /** `plaintextBytes` per second since the start. */
  plaintextBytesPerSecond: number;
  /** The stream the last chunk belonged to. */
  stream: string;
}

/** One stream of a backup, as totals. */
export interface StreamSummary {
  name: string;
  plaintextBytes: number;
  storedBytes: number;
  chunks: number;
  /** What the stream's method said of how it went (`ParentStream.note`), e.g. how an incremental chose its blocks. */
  notes?: string[];
}

/** What a committed backup holds and how to find it again. */
export interface BackupSummary {
  backupId: string;
  /** The manifest's object key: its presence is what makes the backup complete. */
  manifestKey: string;
  /** SHA-256 of the manifest object: record it to detect a later swap of the whole backup. */
  manifestSha256: string;
  createdAt: string;
  completedAt: string;
  streams: StreamSummary[];
  plaintextBytes: number;
  storedBytes: number;
  chunks: number;
  /** Chunks of an incremental backup that earlier backups of its chain hold (not stored again, not in storedBytes). */
  reusedChunks: number;
  durationMs: number;
}

/** Counts progress and turns it into `TransferProgress`. */
export class ProgressMeter {
  readonly #started = performance.now();
  readonly #report: ((progress: TransferProgress) => void) | undefined;
  plaintextBytes = 0;
  storedBytes = 0;
  chunks = 0;

  constructor(report: ((progress: TransferProgress) => void) | undefined) {
    this.#report = report;
  }

  /** Count one chunk and report. */
  add(stream: string, plaintextBytes: number, storedBytes: number): void {
    this.plaintextBytes += plaintextBytes;
    this.storedBytes += storedBytes;
    this.chunks++;
    this.#report?.(this.snapshot(stream));
  }

  snapshot(stream: string): TransferProgress {
    const elapsedMs = performance.now() - this.#started;
    return {
      plaintextBytes: this.plaintextBytes,
      storedBytes: this.storedBytes,
      chunks: this.chunks,
      elapsedMs,
      plaintextBytesPerSecond: elapsedMs > 0 ? (this.plaintextBytes * 1000) / elapsedMs : 0,
      stream,
    };
  }
}

/** Tests a chunk of a large tar member: true when its method vouches it is unchanged since the parent backup. */
export type UnchangedTest = (file: string, offset: number, data: Buffer) => boolean;

/**
 * What an incremental backup's parent holds of a stream, for a method that can tell unchanged chunks of large tar
 * members without reading them (PostgreSQL: from the WAL between the two backups).
 */
export interface ParentStream {
  /** What the parent's method recorded of the stream. */
  attributes: Readonly<Record<string, string>>;
  /** Whether the parent holds a chunk of large tar member `file` at file offset `offset`, `size` bytes long. */
  holds(file: string, offset: number, size: number): boolean;
  /**
   * `size` bytes to write instead of a chunk's data that the method vouches unchanged since the parent and that the
   * parent `holds`: the writer records the parent's chunk for it. Written as one write that is exactly one chunk
   * (a large member's data cut at its chunk offsets); anything else fails the backup, as does a placeholder where the
   * parent holds no chunk of that size. Its bytes are zeros and never stored.
   */
  placeholder(size: number): Buffer;
  /**
   * `size` bytes to write instead of a tar member's data (the member's header written just before) that the method
   * did not read and vouches unchanged since the parent read it. A chunk whose every data byte is such, and whose tar
   * headers and position are the parent's (its layout), is recorded as the parent's chunk; any other chunk holding
   * them has them read with `load(offset, target)` (the file's bytes from `offset`, all of `target`) before it goes
   * on as usual. Its bytes are zeros and never stored.
   */
  unread(size: number, load: (offset: number, target: Buffer) => Promise<void>): Buffer;
  /** Keep a line about how the stream was written for the backup's summary (no secret). */
  note(text: string): void;
}

/** How a stream is written, beyond its bytes. */
export interface StreamOptions {
  /** Small facts about the stream, sealed in the manifest and handed to the next incremental's `unchangedSince`. */
  attributes?: Record<string, string>;
  /**
   * For an incremental backup: given the attributes the parent recorded for the same stream, a test of chunks
   * (undefined: none). A chunk it accepts, which the parent holds for the same file, offset and size, is
   * referenced without being MAC'd, compressed or encrypted; any other chunk goes the content-MAC way.
   */
  unchangedSince?: (parentAttributes: Readonly<Record<string, string>>) => UnchangedTest | undefined;
  /**
   * For an incremental backup whose parent recorded attributes for this stream: called once, when the stream is
   * created (before its source is read), with what the parent holds of it.
   */
  withParent?: (parent: ParentStream) => void;
  /**
   * The method's buffers are its no more once written: a write that is exactly one chunk is moved to a worker
   * thread instead of being copied there.
   */
  handsOver?: boolean;
  /**
   * With `handsOver`: gets back each handed-over buffer the writer is done with without moving it (a chunk reused
   * from the parent), so the method can read into it again instead of leaving it to the garbage collector.
   */
  recycle?: (data: Buffer) => void;
  /**
   * False: chunks of large tar members get no content MAC (default true). For a method whose `unchangedSince`
   * decides those blocks, the MAC would cost as much CPU as compressing them and rarely find anything more.
   */
  macPlacedChunks?: boolean;
}
