/**
 * Archived log files (WAL) of a continuous Backup in a repository. Each file is its own small backup in ADR 6's format
 * (`manifests/wal_<uid>_<file>.json` and its encrypted chunks), so every file is compressed, encrypted and
 * authenticated like any backup, written atomically (the manifest last) and deleted on its own when pruned. The
 * file's name and the time the server last wrote it are in the sealed metadata, checked on read.
 */
import type { Readable } from "node:stream";
import { BackupWriter, deleteBackup, openBackup, type BackupKeyring, type BackupReader, type BackupRepository, type BackupSummary } from "../backup/index.ts";
import type { Backup } from "../api/index.ts";
import { ConflictError, InvalidError } from "../errors/index.ts";
import type { ArchivedLogFile, LogArchiveSource } from "../engines/index.ts";

const MANIFESTS = "manifests/";
const LOG_STREAM = "log";

/** The prefix of every archived file's backup id: `wal_<uid of the continuous Backup>_`. */
export function logArchivePrefix(backup: Pick<Backup, "metadata">): string {
  const uid = backup.metadata.uid;
  if (uid === undefined || uid === "") throw new InvalidError(`backup ${backup.metadata.name} has no uid yet`);
  return `wal_${uid}_`;
}

/** Where one continuous Backup's archived files are, and the keys that seal them. */
export interface LogArchive {
  repository: BackupRepository;
  keyring: BackupKeyring;
  /** See logArchivePrefix. */
  prefix: string;
  /** The continuous Backup's uid, sealed into every file's metadata. */
  backupUid: string;
}

/** What is sealed with each archived file. */
interface LogFileMetadata {
  kind: "log-file";
  backupUid: string;
  name: string;
  writtenAt: string;
  /** The instance whose spool it came from. */
  instance: string;
}

/** The names of the archived files. */
export async function listArchivedLogFiles(archive: LogArchive): Promise<string[]> {
  const names: string[] = [];
  const prefix = `${MANIFESTS}${archive.prefix}`;
  for await (const object of archive.repository.list(prefix)) {
    if (object.key.endsWith(".json")) names.push(object.key.slice(prefix.length, -".json".length));
  }
  return names.sort();
}

/**
 * Archive one file. Resolves with its summary, or undefined when a complete copy is already archived (a control
 * plane stopped between storing a file and removing it from the spool; or a standby handed over the same file).
 */
export async function archiveLogFile(archive: LogArchive, name: string, content: Readable, metadata: { writtenAt: Date; instance: string }): Promise<BackupSummary | undefined> {
  const sealed: LogFileMetadata = { kind: "log-file", backupUid: archive.backupUid, name, writtenAt: metadata.writtenAt.toISOString(), instance: metadata.instance };
  let writer: BackupWriter;
  try {
    writer = await BackupWriter.create({ repository: archive.repository, keyring: archive.keyring, backupId: `${archive.prefix}${name}`, metadata: { ...sealed } });
  } catch (error) {
    if (error instanceof ConflictError) return undefined;
    throw error;
  }
  try {
    await writer.writeStream(LOG_STREAM, content);
    return await writer.commit();
  } catch (error) {
    await writer.abort().catch(() => undefined);
    throw error;
  }
}

/** Open one archived file, checking that its sealed metadata names it and this archive. */
async function openLogFile(archive: LogArchive, name: string): Promise<{ reader: BackupReader; writtenAt: Date }> {
  const reader = await openBackup({ repository: archive.repository, keyring: archive.keyring, backupId: `${archive.prefix}${name}` });
  const metadata = reader.metadata as Partial<LogFileMetadata>;
  const writtenAt = new Date(metadata.writtenAt ?? "");
  if (metadata.kind !== "log-file" || metadata.backupUid !== archive.backupUid || metadata.name !== name || Number.isNaN(writtenAt.getTime())) {
    throw new InvalidError(`archived log file ${name} in ${archive.repository.location} is not what its name says; it was moved or replaced`);
  }
  return { reader, writtenAt };
}

/** When the server last wrote archived file `name`, and its sizes (plaintext, stored). */
export async function archivedLogFileInfo(archive: LogArchive, name: string): Promise<{ writtenAt: Date; bytes: number; storedBytes: number }> {
  const { reader, writtenAt } = await openLogFile(archive, name);
  const sum = (pick: (stream: (typeof reader.streams)[number]) => number): number => reader.streams.reduce((total, stream) => total + pick(stream), 0);
  return { writtenAt, bytes: sum((s) => s.plaintextBytes), storedBytes: sum((s) => s.storedBytes) };
}

/** Remove one archived file. */
export async function deleteArchivedLogFile(archive: LogArchive, name: string): Promise<void> {
  await deleteBackup(archive.repository, `${archive.prefix}${name}`);
}

/** Remove every archived file of the archive; returns how many. */
export async function deleteLogArchive(archive: LogArchive): Promise<number> {
  const names = await listArchivedLogFiles(archive);
  for (const name of names) await deleteArchivedLogFile(archive, name);
  return names.length;
}

/** The archive as a restore reads it: names listed once, each file checked as it is read. */
export async function logArchiveSource(archive: LogArchive): Promise<LogArchiveSource> {
  const names = await listArchivedLogFiles(archive);
  return {
    names: () => names,
    async file(name: string): Promise<ArchivedLogFile> {
      const { reader, writtenAt } = await openLogFile(archive, name);
      return { name, writtenAt, open: () => reader.openStream(LOG_STREAM) };
    },
  };
}
