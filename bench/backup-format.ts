/**
 * Backup format throughput: N MiB of semi-compressible data (text rows with random numbers, and some incompressible
 * runs, like table pages) written through the format (4 MiB chunks, zstd 1 and 3, AES-256-GCM, SHA-256, fsync per chunk) into
 * a local repository, read back (verified) and verified again, against the floor measured in the same run on the
 * same disk: a plain file copy (one fsync at the end) and a plain read of the copy.
 */
import { constants, createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, open, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { BackupWriter, LocalRepository, openBackup, verifyBackup } from "../src/backup/index.ts";
import { loadOrCreateKeyring, type Keyring } from "../src/security/index.ts";

const MIB = 1024 * 1024;
const SIZE_MIB = Number(process.env["BENCH_BACKUP_MIB"] ?? 512);
const READ_CHUNK = MIB;

export async function backupFormatBenchmark(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), "holdfast-bench-backup-"));
  try {
    const source = join(root, "source.bin");
    await writeFile(source, generate(SIZE_MIB * MIB));
    const copyWrite = await timed(() => plainCopy(source, join(root, "copy.bin")));
    const copyRead = await timed(() => drain(createReadStream(join(root, "copy.bin"), { highWaterMark: READ_CHUNK })));
    await rm(join(root, "copy.bin"));
    const keyring = await loadOrCreateKeyring(join(root, "keys", "keyring.json"));
    const repository = await LocalRepository.open(join(root, "repository"));
    const stored = { level1: 0, level3: 0 };
    const write = await timed(async () => {
      stored.level1 = await backUp(repository, keyring, "bench", source, 1);
    });
    const writeLevel3 = await timed(async () => {
      stored.level3 = await backUp(repository, keyring, "bench-level-3", source, 3);
    });
    const read = await timed(async () => {
      const reader = await openBackup({ repository, keyring, backupId: "bench" });
      await drain(reader.openStream("base.tar"));
    });
    const verify = await timed(async () => {
      const report = await verifyBackup({ repository, keyring, backupId: "bench" });
      if (!report.ok) throw new Error(`bench backup did not verify: ${JSON.stringify(report.problems)}`);
    });
    const size = (await stat(source)).size;
    report(size, stored, { copyWrite, copyRead, write, writeLevel3, read, verify });
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

async function backUp(repository: LocalRepository, keyring: Keyring, backupId: string, source: string, compressionLevel: number): Promise<number> {
  const writer = await BackupWriter.create({ repository, keyring, backupId, metadata: { bench: true }, compressionLevel });
  await writer.writeStream("base.tar", createReadStream(source, { highWaterMark: READ_CHUNK }));
  return (await writer.commit()).storedBytes;
}

/** Rows of text with random numbers, and every 16th 4 KiB block random bytes (already-compressed values). */
function generate(bytes: number): Buffer {
  const out = Buffer.alloc(bytes);
  let state = 0x9e3779b9;
  const random = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
  const names = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"];
  for (let block = 0; block * 4096 < bytes; block++) {
    const start = block * 4096;
    const end = Math.min(bytes, start + 4096);
    if (block % 16 === 15) {
      for (let i = start; i < end; i += 4) out.writeUInt32LE(random(), Math.min(i, end - 4));
      continue;
    }
    let offset = start;
    while (offset < end) {
      const r = random();
      const row = `${r % 1_000_000}\t${names[r % names.length] ?? ""}\t${(r % 99_991) / 100}\t2024-0${1 + (r % 9)}-1${r % 10}\n`;
      offset += out.write(row, offset, end - offset, "latin1");
    }
  }
  return out;
}

async function plainCopy(from: string, to: string): Promise<void> {
  await pipeline(createReadStream(from, { highWaterMark: READ_CHUNK }), createWriteStream(to, { mode: 0o600 }));
  const handle = await open(to, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function drain(stream: NodeJS.ReadableStream): Promise<void> {
  await pipeline(stream, new Writable({ write: (_chunk, _encoding, callback) => callback() }));
}

async function timed(work: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}

type Timings = Record<"copyWrite" | "copyRead" | "write" | "writeLevel3" | "read" | "verify", number>;

function report(size: number, stored: { level1: number; level3: number }, seconds: Timings): void {
  const rate = (s: number): string => `${(size / MIB / s).toFixed(0)} MiB/s`;
  const row = (label: string, s: number, floor?: number): void =>
    console.log(label.padEnd(48), rate(s).padStart(12), floor === undefined ? "" : `${(floor / s).toFixed(2)}x of plain`.padStart(18));
  console.log(`\nbackup format: ${SIZE_MIB} MiB of semi-compressible data, 4 MiB chunks, AES-256-GCM, local repository`);
  row("plain file copy (fsync at end)", seconds.copyWrite);
  row("backup write, zstd 1 (default; fsync per chunk)", seconds.write, seconds.copyWrite);
  row("backup write, zstd 3", seconds.writeLevel3, seconds.copyWrite);
  row("plain file read", seconds.copyRead);
  row("restore read (check, decrypt, decompress)", seconds.read, seconds.copyRead);
  row("verify (re-read everything)", seconds.verify);
  const ratio = (bytes: number): string => `${(size / bytes).toFixed(2)} (${(bytes / MIB).toFixed(1)} MiB)`;
  console.log(`compression ratio: zstd 1 ${ratio(stored.level1)}, zstd 3 ${ratio(stored.level3)} of ${(size / MIB).toFixed(0)} MiB\n`);
}
