/**
 * Backups: a streaming, chunked, compressed, encrypted and verifiable backup format, and the repositories
 * (local directory, S3-compatible bucket) that hold it. See docs/adr/0006-backup-format.md.
 */
export { BackupWriter, DEFAULT_CHUNK_SIZE, type BackupWriterOptions } from "./backup-writer.ts";
export { BackupReader, openBackup, type ReadStreamOptions } from "./backup-reader.ts";
export { ChunkPool } from "./chunk-pool.ts";
export { readGrantSchema, type ReadGrant } from "./read-grant.ts";
export { writeGrantSchema, writtenStreamSchema, type WriteGrant, type WrittenStream } from "./write-grant.ts";
export type { OpenBackupOptions } from "./open-manifest.ts";
export { verifyBackup, type BackupProblem, type VerificationReport, type VerifyOptions } from "./verify-backup.ts";
export { cleanupIncompleteBackups, deleteBackup, listCompleteBackups, type CleanupResult } from "./backup-catalog.ts";
export { rewrapBackup } from "./rewrap-backup.ts";
export { BackupIntegrityError, type IntegrityLocation, type IntegrityProblem } from "./integrity-error.ts";
export type { BackupKeyring, BackupSummary, Compression, ParentStream, StreamOptions, StreamSummary, TransferProgress, UnchangedTest } from "./types.ts";
export type { BackupRepository, GetOptions, RepositoryObject } from "./repository.ts";
export { LocalRepository } from "./local-repository.ts";
export { S3Repository, type S3RepositoryOptions } from "./s3-repository.ts";
export { assertBackupId, assertStreamName, manifestKey } from "./object-keys.ts";
export { openRepositoryAt, repositoryAddressSchema, type RepositoryAddress } from "./repository-address.ts";
