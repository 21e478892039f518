/** Shared pieces for backup tests: a temporary keyring and local repository, test data, and raw file access. */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { BackupWriter, LocalRepository, type BackupReader, type BackupRepository, type BackupSummary, type BackupWriterOptions } from "../../src/backup/index.ts";
import { loadOrCreateKeyring, type Keyring } from "../../src/security/index.ts";

/** A keyring and a local repository in a temporary directory. */
export interface LocalFixture {
  directory: string;
  keyringPath: string;
  keyring: Keyring;
  repository: LocalRepository;
  cleanup(): Promise<void>;
}

export async function localFixture(): Promise<LocalFixture> {
  const directory = await mkdtemp(join(tmpdir(), "holdfast-backup-test-"));
  const keyringPath = join(directory, "keys", "secrets.keyring.json");
  return {
    directory,
    keyringPath,
    keyring: await loadOrCreateKeyring(keyringPath),
    repository: await LocalRepository.open(join(directory, "repository")),
    cleanup: () => rm(directory, { recursive: true, force: true }),
  };
}

/** Deterministic bytes that compress somewhat, like table pages: words with random numbers between them. */
export function semiCompressible(bytes: number, seed = 1): Buffer {
  const out = Buffer.alloc(bytes);
  const words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"];
  let state = seed >>> 0 || 1;
  const random = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
  let offset = 0;
  while (offset < bytes) {
    const r = random();
    const piece = r % 3 === 0 ? `${r.toString(36)}|` : `${words[r % words.length]!} `;
    offset += out.write(piece, offset, "latin1");
  }
  return out;
}

/** Write `streams` as one backup and commit it. */
export async function writeBackup(
  repository: BackupRepository,
  keyring: Keyring,
  backupId: string,
  streams: Record<string, Buffer>,
  options: Partial<BackupWriterOptions> = {},
): Promise<BackupSummary> {
  const writer = await BackupWriter.create({ repository, keyring, backupId, metadata: { engine: "postgresql" }, ...options });
  for (const [name, data] of Object.entries(streams)) {
    // Several writes per stream, of uneven sizes, as a pipe would deliver them.
    await writer.writeStream(name, Readable.from(split(data, 1000 + (data.length % 777))));
  }
  return writer.commit();
}

/** All of a stream's plaintext. */
export function readStream(reader: BackupReader, name: string): Promise<Buffer> {
  return buffer(reader.openStream(name));
}

/** Every file below `directory`, hidden ones included, with its bytes. */
export async function filesBelow(directory: string): Promise<Array<{ path: string; bytes: Buffer }>> {
  const files: Array<{ path: string; bytes: Buffer }> = [];
  for (const entry of await readdir(directory, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) {
      const path = join(entry.parentPath, entry.name);
      files.push({ path, bytes: await readFile(path) });
    }
  }
  return files;
}

function split(data: Buffer, size: number): Buffer[] {
  const parts: Buffer[] = [];
  for (let offset = 0; offset < data.length; offset += size) parts.push(data.subarray(offset, offset + size));
  return parts;
}

/** Everything an async iterable yields. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}
