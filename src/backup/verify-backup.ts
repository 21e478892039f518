/** `verifyBackup`: re-read a whole backup and report every bad object, not just the first. */
import { NotFoundError } from "../errors/index.ts";
import { openBackup, type BackupReader } from "./backup-reader.ts";
import { ChunkPool, defaultProcessMax } from "./chunk-pool.ts";
import { BackupIntegrityError, type IntegrityProblem } from "./integrity-error.ts";
import { backupDataPrefix, manifestKey } from "./object-keys.ts";
import type { OpenBackupOptions } from "./open-manifest.ts";
import { ProgressMeter, type TransferProgress } from "./types.ts";

/** One bad object. */
export interface BackupProblem {
  problem: IntegrityProblem;
  objectKey: string;
  stream?: string;
  chunkIndex?: number;
  message: string;
}

/** What verification found. `ok` is true only when the manifest and every chunk checked out. */
export interface VerificationReport {
  backupId: string;
  ok: boolean;
  manifestSha256?: string;
  chunksVerified: number;
  chunksTotal: number;
  /** An incremental backup's chain (the backups whose chunks it reads, oldest first), when it has one. */
  chain?: string[];
  plaintextBytes: number;
  problems: BackupProblem[];
  /** Objects under the backup's data prefix that the manifest does not list (left by an interrupted earlier attempt). */
  unreferencedObjects: string[];
  durationMs: number;
}

/** Options for `verifyBackup`. */
export interface VerifyOptions extends OpenBackupOptions {
  onProgress?: (progress: TransferProgress) => void;
  /** Chunks checked at once, each on a worker thread (default `defaultProcessMax()`). */
  concurrency?: number;
}

/** Re-read the manifest and every chunk; reports problems instead of throwing on them. */
export async function verifyBackup(options: VerifyOptions): Promise<VerificationReport> {
  const started = performance.now();
  const report: VerificationReport = {
    backupId: options.backupId,
    ok: false,
    chunksVerified: 0,
    chunksTotal: 0,
    plaintextBytes: 0,
    problems: [],
    unreferencedObjects: [],
    durationMs: 0,
  };
  const reader = await openForVerification(options, report);
  if (reader !== undefined) {
    report.manifestSha256 = reader.manifestSha256;
    if (reader.chain.length > 0) report.chain = reader.chain;
    await checkChunks(reader, options, report);
    report.unreferencedObjects = await findUnreferenced(options, reader);
  }
  report.ok = reader !== undefined && report.problems.length === 0;
  report.durationMs = performance.now() - started;
  return report;
}

async function openForVerification(options: VerifyOptions, report: VerificationReport): Promise<BackupReader | undefined> {
  try {
    return await openBackup(options);
  } catch (error) {
    if (error instanceof BackupIntegrityError) {
      report.problems.push(toProblem(error));
      return undefined;
    }
    if (error instanceof NotFoundError) {
      report.problems.push({ problem: "missing", objectKey: manifestKey(options.backupId), message: error.message });
      return undefined;
    }
    throw error;
  }
}

async function checkChunks(reader: BackupReader, options: VerifyOptions, report: VerificationReport): Promise<void> {
  const chunks = reader.chunkList();
  report.chunksTotal = chunks.length;
  const meter = new ProgressMeter(options.onProgress);
  const pool = new ChunkPool(Math.max(1, options.concurrency ?? defaultProcessMax()));
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let item = chunks[next++]; item !== undefined; item = chunks[next++]) {
      try {
        const plaintext = await reader.readChunk(item.stream, item.index, pool);
        report.chunksVerified++;
        report.plaintextBytes += plaintext.length;
        meter.add(item.stream, plaintext.length, 0);
      } catch (error) {
        if (!(error instanceof BackupIntegrityError)) throw error;
        report.problems.push(toProblem(error));
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: pool.size }, worker));
  } finally {
    await pool.close();
  }
  report.problems.sort((a, b) => (a.objectKey < b.objectKey ? -1 : a.objectKey > b.objectKey ? 1 : 0));
}

async function findUnreferenced(options: VerifyOptions, reader: BackupReader): Promise<string[]> {
  const referenced = new Set(reader.chunkList().map((chunk) => chunk.key));
  const extra: string[] = [];
  for await (const object of options.repository.list(backupDataPrefix(options.backupId))) {
    if (!referenced.has(object.key)) extra.push(object.key);
  }
  return extra.sort();
}

function toProblem(error: BackupIntegrityError): BackupProblem {
  return {
    problem: error.problem,
    objectKey: error.location.objectKey,
    ...(error.location.stream === undefined ? {} : { stream: error.location.stream }),
    ...(error.location.chunkIndex === undefined ? {} : { chunkIndex: error.location.chunkIndex }),
    message: error.message,
  };
}
