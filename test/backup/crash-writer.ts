/**
 * A backup writer that never finishes: run as a child process and killed by a test to simulate a crash.
 * argv: keyring path, repository root, backup id. Prints "stored <chunks>" after each stored chunk.
 */
import { Readable } from "node:stream";
import { BackupWriter, LocalRepository } from "../../src/backup/index.ts";
import { loadOrCreateKeyring } from "../../src/security/index.ts";
import { semiCompressible } from "./backup-fixture.ts";

const [keyringPath, root, backupId] = process.argv.slice(2);
if (keyringPath === undefined || root === undefined || backupId === undefined) throw new Error("usage: crash-writer KEYRING ROOT BACKUP_ID");
const writer = await BackupWriter.create({
  repository: await LocalRepository.open(root),
  keyring: await loadOrCreateKeyring(keyringPath),
  backupId,
  metadata: {},
  chunkSize: 4096,
  onProgress: (progress) => process.stdout.write(`stored ${progress.chunks}\n`),
});
async function* endless(): AsyncGenerator<Buffer> {
  for (let i = 0; ; i++) {
    yield semiCompressible(1024, i + 1);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
await writer.writeStream("base.tar", Readable.from(endless()));
