// The backup format on the S3 repository, against a real S3-API server (s3rver) on loopback.
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { after, before, test } from "node:test";
import {
  BackupIntegrityError,
  BackupWriter,
  cleanupIncompleteBackups,
  deleteBackup,
  listCompleteBackups,
  openBackup,
  S3Repository,
  verifyBackup,
} from "../../src/backup/index.ts";
import { collect, filesBelow, localFixture, readStream, semiCompressible, writeBackup, type LocalFixture } from "./backup-fixture.ts";
import { startS3Server, type S3TestServer } from "./s3-server.ts";

let server: S3TestServer;
let fixture: LocalFixture;
let repository: S3Repository;
before(async () => {
  [server, fixture] = await Promise.all([startS3Server(), localFixture()]);
  repository = new S3Repository({
    endpoint: server.endpoint,
    region: "us-east-1",
    bucket: server.bucket,
    prefix: "backups",
    accessKeyId: server.accessKeyId,
    secretAccessKey: server.secretAccessKey,
  });
});
after(async () => {
  await server.stop();
  await fixture.cleanup();
});

const MARKER = "HOLDFAST-S3-KNOWN-VALUE-c0ffee";

test("a multi-stream backup round-trips through S3 and verifies; the object store never sees plaintext", async () => {
  const streams = {
    "base.tar": Buffer.concat([semiCompressible(3 * 65536, 31), Buffer.from(MARKER.repeat(20)), semiCompressible(1000, 32)]),
    empty: Buffer.alloc(0),
    "wal/000000010000000000000003": semiCompressible(65536, 33),
  };
  const summary = await writeBackup(repository, fixture.keyring, "s3-backup", streams, { chunkSize: 65536, metadata: { engine: "redis", note: MARKER } });
  assert.deepEqual(await listCompleteBackups(repository), ["s3-backup"]);
  const reader = await openBackup({ repository, keyring: fixture.keyring, backupId: "s3-backup", expectedManifestSha256: summary.manifestSha256 });
  for (const [name, data] of Object.entries(streams)) assert.ok((await readStream(reader, name)).equals(data), name);
  const report = await verifyBackup({ repository, keyring: fixture.keyring, backupId: "s3-backup" });
  assert.equal(report.ok, true, JSON.stringify(report.problems));
  assert.equal(report.chunksVerified, summary.chunks);

  const files = await filesBelow(server.directory);
  assert.ok(files.length >= summary.chunks + 1);
  for (const file of files) assert.equal(file.bytes.indexOf(MARKER), -1, `plaintext found in ${file.path}`);
});

test("a flipped byte in a chunk on S3 is named by verify and refused by the reader", async () => {
  const chunkKey = (await collect(repository.list("data/s3-backup/"))).map((object) => object.key).sort()[1]!;
  const original = await repository.get(chunkKey);
  const changed = Buffer.from(original);
  changed[changed.length >> 1] = changed[changed.length >> 1]! ^ 0x10;
  await repository.put(chunkKey, changed);
  try {
    const report = await verifyBackup({ repository, keyring: fixture.keyring, backupId: "s3-backup" });
    assert.equal(report.ok, false);
    assert.deepEqual(report.problems.map((p) => [p.objectKey, p.stream, p.chunkIndex, p.problem]), [[chunkKey, "base.tar", 1, "checksum"]]);
    const reader = await openBackup({ repository, keyring: fixture.keyring, backupId: "s3-backup" });
    await assert.rejects(readStream(reader, "base.tar"), (error: unknown) => error instanceof BackupIntegrityError && error.message.includes(chunkKey));
  } finally {
    await repository.put(chunkKey, original);
  }
});

test("an unfinished backup on S3 is not complete, and cleanup removes it; delete removes a complete one", async () => {
  const writer = await BackupWriter.create({ repository, keyring: fixture.keyring, backupId: "unfinished", metadata: {}, chunkSize: 4096 });
  const stream = writer.createStream("dump.rdb");
  Readable.from([semiCompressible(20_000, 34)]).pipe(stream, { end: false });
  // Four full chunks are stored (the rest waits for more data): wait for them, so that none lands after the cleanup.
  for (let waited = 0; (await collect(repository.list("data/unfinished/"))).length < 4 && waited < 20_000; waited += 100) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal((await collect(repository.list("data/unfinished/"))).length, 4);
  assert.deepEqual(await listCompleteBackups(repository), ["s3-backup"]);
  // S3 times have one-second resolution: a cut-off a little in the future covers what was just written.
  const result = await cleanupIncompleteBackups(repository, new Date(Date.now() + 2000));
  assert.deepEqual(result.incompleteBackups, ["unfinished"]);
  assert.deepEqual(await collect(repository.list("data/unfinished/")), []);
  stream.destroy();

  await deleteBackup(repository, "s3-backup");
  assert.deepEqual(await listCompleteBackups(repository), []);
  assert.deepEqual(await collect(repository.list("")), []);
});
