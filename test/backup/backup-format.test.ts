// The backup format end to end on a local repository: round trips, progress, confidentiality, keys, crashes.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { statSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { after, before, describe, test } from "node:test";
import { ConflictError, InvalidError, NotFoundError } from "../../src/errors/index.ts";
import { loadOrCreateKeyring } from "../../src/security/index.ts";
import { collect, filesBelow, localFixture, readStream, semiCompressible, writeBackup, type LocalFixture } from "./backup-fixture.ts";
import {
  BackupIntegrityError,
  BackupWriter,
  cleanupIncompleteBackups,
  deleteBackup,
  listCompleteBackups,
  openBackup,
  rewrapBackup,
  verifyBackup,
  type BackupRepository,
  type TransferProgress,
} from "../../src/backup/index.ts";

let fixture: LocalFixture;
before(async () => {
  fixture = await localFixture();
});
after(() => fixture.cleanup());

/** The fixture's repository, with some of its operations replaced. */
function through(overrides: Partial<BackupRepository>): BackupRepository {
  const real = fixture.repository;
  return {
    location: real.location,
    put: (key, body, options) => real.put(key, body, options),
    flush: (keys) => real.flush(keys),
    get: (key, options) => real.get(key, options),
    list: (prefix) => real.list(prefix),
    delete: (key) => real.delete(key),
    sweepIncompleteUploads: (olderThan, under) => real.sweepIncompleteUploads(olderThan, under),
    ...overrides,
  };
}

describe("round trip", () => {
  test("multi-chunk, empty, exactly chunk-sized and one-byte-over streams come back byte for byte", async () => {
    const size = 4096;
    const streams = {
      "base.tar": semiCompressible(3 * size + 1234, 1),
      empty: Buffer.alloc(0),
      exact: semiCompressible(2 * size, 2),
      "one-over": semiCompressible(2 * size + 1, 3),
      "wal/000000010000000000000003": semiCompressible(size, 4),
      tiny: Buffer.from("x"),
    };
    const summary = await writeBackup(fixture.repository, fixture.keyring, "round-trip", streams, {
      chunkSize: size,
      metadata: { engine: "postgresql", method: "pg-basebackup", timeRange: { start: "2024-01-01T00:00:00Z" } },
    });
    assert.deepEqual(
      summary.streams.map((s) => [s.name, s.chunks, s.plaintextBytes]),
      [["base.tar", 4, 3 * size + 1234], ["empty", 1, 0], ["exact", 2, 2 * size], ["one-over", 3, 2 * size + 1], ["wal/000000010000000000000003", 1, size], ["tiny", 1, 1]],
    );
    assert.match(summary.manifestSha256, /^[0-9a-f]{64}$/);
    const reader = await openBackup({ repository: fixture.repository, keyring: fixture.keyring, backupId: "round-trip", expectedManifestSha256: summary.manifestSha256 });
    assert.deepEqual(reader.metadata, { engine: "postgresql", method: "pg-basebackup", timeRange: { start: "2024-01-01T00:00:00Z" } });
    assert.deepEqual(reader.streams.map((s) => s.name), Object.keys(streams));
    for (const [name, data] of Object.entries(streams)) assert.ok((await readStream(reader, name)).equals(data), `stream ${name} differs`);
    assert.throws(() => reader.openStream("missing"), NotFoundError);
    const report = await verifyBackup({ repository: fixture.repository, keyring: fixture.keyring, backupId: "round-trip" });
    assert.equal(report.ok, true);
    assert.equal(report.chunksVerified, 12);
    assert.equal(report.plaintextBytes, summary.plaintextBytes);
  });

  test("default 4 MiB chunks, two streams written at once, progress reported per chunk, zstd shrinks the data", async () => {
    const a = semiCompressible(9 * 1024 * 1024 + 17, 5);
    const b = semiCompressible(5 * 1024 * 1024, 6);
    const progress: TransferProgress[] = [];
    const writer = await BackupWriter.create({
      repository: fixture.repository,
      keyring: fixture.keyring,
      backupId: "concurrent",
      metadata: {},
      onProgress: (p) => progress.push(p),
    });
    await Promise.all([pipeline(Readable.from([a.subarray(0, 1 << 20), a.subarray(1 << 20)]), writer.createStream("a")), writer.writeStream("b", Readable.from([b]))]);
    const summary = await writer.commit();
    assert.deepEqual(summary.streams.map((s) => s.chunks), [3, 2]);
    assert.ok(summary.storedBytes < summary.plaintextBytes * 0.8, `compressed to ${summary.storedBytes} of ${summary.plaintextBytes}`);
    assert.equal(progress.length, 5);
    assert.deepEqual(progress.map((p) => p.chunks), [1, 2, 3, 4, 5]);
    assert.equal(progress.at(-1)!.plaintextBytes, a.length + b.length);
    assert.equal(progress.at(-1)!.storedBytes, summary.storedBytes);
    assert.ok(progress.every((p) => p.plaintextBytesPerSecond > 0));
    const reader = await openBackup({ repository: fixture.repository, keyring: fixture.keyring, backupId: "concurrent" });
    const seen: TransferProgress[] = [];
    const back = Buffer.concat(await reader.openStream("a", { onProgress: (p) => seen.push(p) }).toArray());
    assert.ok(back.equals(a));
    assert.deepEqual(seen.map((p) => p.plaintextBytes), [4 << 20, 8 << 20, a.length]);
    assert.ok((await readStream(reader, "b")).equals(b));
  });

  test("compression none round-trips too", async () => {
    const data = semiCompressible(10_000, 7);
    const summary = await writeBackup(fixture.repository, fixture.keyring, "uncompressed", { dump: data }, { chunkSize: 4096, compression: "none" });
    assert.equal(summary.storedBytes, data.length + 3 * 16);
    const reader = await openBackup({ repository: fixture.repository, keyring: fixture.keyring, backupId: "uncompressed" });
    assert.ok((await readStream(reader, "dump")).equals(data));
  });
});

describe("confidentiality and keys", () => {
  test("a known plaintext string is found nowhere in the repository's bytes, compressed or not", async () => {
    const marker = "HOLDFAST-KNOWN-ROW-VALUE-7f3a91";
    const data = Buffer.concat([semiCompressible(20_000, 8), Buffer.from(marker.repeat(50)), semiCompressible(5000, 9), Buffer.from(marker)]);
    await writeBackup(fixture.repository, fixture.keyring, "secret-zstd", { [`dump-${marker}.sql`]: data }, { chunkSize: 4096, metadata: { note: marker } });
    await writeBackup(fixture.repository, fixture.keyring, "secret-raw", { "dump.sql": data }, { chunkSize: 4096, compression: "none" });
    const files = await filesBelow(fixture.repository.root);
    assert.ok(files.length > 10);
    for (const needle of [marker, marker.slice(0, 12), "alpha bravo".slice(0, 6), "engine", "postgresql"]) {
      for (const file of files) assert.equal(file.bytes.indexOf(needle), -1, `"${needle}" found in ${file.path}`);
    }
  });

  test("files are 0600 and directories 0700", async () => {
    for (const file of await filesBelow(fixture.repository.root)) {
      assert.equal(statSync(file.path).mode & 0o777, 0o600, file.path);
      assert.equal(statSync(join(file.path, "..")).mode & 0o777, 0o700, file.path);
    }
  });

  test("after key rotation old backups restore; rewrapping moves them to the new key so the old one can go", async () => {
    const local = await localFixture();
    try {
      const data = semiCompressible(9000, 10);
      const oldKey = local.keyring.primaryKeyId;
      await writeBackup(local.repository, local.keyring, "before-rotation", { "base.tar": data }, { chunkSize: 4096 });
      const newKey = await local.keyring.rotate();
      await writeBackup(local.repository, local.keyring, "after-rotation", { "base.tar": data }, { chunkSize: 4096 });
      const manifestOf = (id: string): Promise<string> => readFile(join(local.repository.root, "manifests", `${id}.json`), "utf8");
      assert.ok((await manifestOf("before-rotation")).includes(`hfenc:v1:${oldKey}:`));
      assert.ok((await manifestOf("after-rotation")).includes(`hfenc:v1:${newKey}:`));
      for (const id of ["before-rotation", "after-rotation"]) {
        const reader = await openBackup({ repository: local.repository, keyring: local.keyring, backupId: id });
        assert.ok((await readStream(reader, "base.tar")).equals(data));
      }

      // Retire the old key: a keyring holding only the new key cannot open the old backup until it is rewrapped.
      const file = JSON.parse(await readFile(local.keyringPath, "utf8")) as { keys: Array<{ id: string }> };
      file.keys = file.keys.filter((key) => key.id !== oldKey);
      const retiredPath = join(local.directory, "retired", "keyring.json");
      await mkdir(join(local.directory, "retired"), { mode: 0o700 });
      await writeFile(retiredPath, JSON.stringify(file), { mode: 0o600 });
      const retired = await loadOrCreateKeyring(retiredPath);
      await assert.rejects(openBackup({ repository: local.repository, keyring: retired, backupId: "before-rotation" }), (error: unknown) => {
        assert.ok(error instanceof BackupIntegrityError);
        assert.equal(error.problem, "manifest");
        assert.match(error.message, /cannot be unwrapped.*not in the keyring/);
        return true;
      });
      const { manifestSha256 } = await rewrapBackup({ repository: local.repository, keyring: local.keyring, backupId: "before-rotation" });
      assert.ok((await manifestOf("before-rotation")).includes(`hfenc:v1:${newKey}:`));
      const reader = await openBackup({ repository: local.repository, keyring: retired, backupId: "before-rotation", expectedManifestSha256: manifestSha256 });
      assert.ok((await readStream(reader, "base.tar")).equals(data));
    } finally {
      await local.cleanup();
    }
  });

  test("another keyring cannot open a backup", async () => {
    const other = await localFixture();
    try {
      await assert.rejects(openBackup({ repository: fixture.repository, keyring: other.keyring, backupId: "round-trip" }), BackupIntegrityError);
    } finally {
      await other.cleanup();
    }
  });
});

describe("completeness", () => {
  test("a writer killed before the manifest leaves no complete backup; cleanup removes what it wrote", async () => {
    const local = await localFixture();
    try {
      const child = spawn(process.execPath, ["--disable-warning=ExperimentalWarning", join(import.meta.dirname, "crash-writer.ts"), local.keyringPath, local.repository.root, "crashed"], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      await new Promise<void>((resolve, reject) => {
        child.stdout.on("data", (data: Buffer) => {
          if (/stored (\d{2,})/.test(data.toString())) resolve();
        });
        child.once("exit", (code) => reject(new Error(`crash-writer exited early with ${code}`)));
      });
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await exited;

      const leftovers = await collect(local.repository.list("data/crashed/"));
      assert.ok(leftovers.length >= 10, `expected chunks on disk, found ${leftovers.length}`);
      assert.deepEqual(await listCompleteBackups(local.repository), []);
      await assert.rejects(openBackup({ repository: local.repository, keyring: local.keyring, backupId: "crashed" }), NotFoundError);
      const report = await verifyBackup({ repository: local.repository, keyring: local.keyring, backupId: "crashed" });
      assert.equal(report.ok, false);
      assert.deepEqual(report.problems.map((p) => [p.problem, p.objectKey]), [["missing", "manifests/crashed.json"]]);

      // A backup still being written is left alone: only what is older than the cut-off goes.
      const running = await BackupWriter.create({ repository: local.repository, keyring: local.keyring, backupId: "running", metadata: {}, chunkSize: 1024 });
      const stream = running.createStream("base.tar");
      await new Promise<void>((resolve, reject) => stream.write(semiCompressible(5000, 11), (error) => (error ? reject(error) : resolve())));
      const cutoff = new Date(Date.now() + 60_000);
      const notYet = await cleanupIncompleteBackups(local.repository, new Date(Date.now() - 60_000));
      assert.deepEqual(notYet.incompleteBackups, []);
      await running.abort();
      const result = await cleanupIncompleteBackups(local.repository, cutoff);
      assert.deepEqual(result.incompleteBackups, ["crashed"]);
      assert.equal(result.objectsDeleted, leftovers.length);
      assert.deepEqual(await collect(local.repository.list("")), []);
    } finally {
      await local.cleanup();
    }
  });

  test("a failed upload fails the stream and the commit; abort removes what was stored", async () => {
    let puts = 0;
    const failing = through({
      put: (key, body, options) => (++puts === 3 ? Promise.reject(new Error("injected put failure")) : fixture.repository.put(key, body, options)),
    });
    const writer = await BackupWriter.create({ repository: failing, keyring: fixture.keyring, backupId: "failed", metadata: {}, chunkSize: 1024, maxChunksInFlight: 1 });
    await assert.rejects(writer.writeStream("base.tar", Readable.from([semiCompressible(10_000, 12)])), /injected put failure/);
    await assert.rejects(writer.commit(), InvalidError);
    assert.equal(await writer.abort(), 2);
    assert.deepEqual(await collect(fixture.repository.list("data/failed/")), []);
    assert.ok(!(await listCompleteBackups(fixture.repository)).includes("failed"));
  });

  test("chunks are stored without a sync each and every one is flushed before the manifest is stored", async () => {
    const log: string[] = [];
    const recording = through({
      put: (key, body, options) => {
        log.push(`${options?.deferSync === true ? "deferred" : "durable"} ${key}`);
        return fixture.repository.put(key, body, options);
      },
      flush: (keys) => {
        log.push(...keys.map((key) => `flush ${key}`));
        return fixture.repository.flush(keys);
      },
    });
    const writer = await BackupWriter.create({ repository: recording, keyring: fixture.keyring, backupId: "flushed", metadata: {}, chunkSize: 1024 });
    await writer.writeStream("base.tar", Readable.from([semiCompressible(5000, 15)]));
    await writer.commit();
    const chunks = log.filter((line) => line.startsWith("deferred ")).map((line) => line.slice("deferred ".length));
    assert.equal(chunks.length, 5);
    const durable = log.filter((line) => line.startsWith("durable "));
    assert.equal(durable.length, 1, "only the manifest is stored durably at once");
    const manifestAt = log.indexOf(durable[0] ?? "");
    assert.equal(manifestAt, log.length - 1, "the manifest is stored last");
    for (const chunk of chunks) assert.ok(log.indexOf(`flush ${chunk}`) > -1 && log.indexOf(`flush ${chunk}`) < manifestAt, `${chunk} is flushed before the manifest`);
    assert.deepEqual(await readStream(await openBackup({ repository: fixture.repository, keyring: fixture.keyring, backupId: "flushed" }), "base.tar"), semiCompressible(5000, 15));
  });

  test("a source that fails mid-stream fails the stream; commit refuses", async () => {
    const writer = await BackupWriter.create({ repository: fixture.repository, keyring: fixture.keyring, backupId: "source-failed", metadata: {}, chunkSize: 1024 });
    async function* failing(): AsyncGenerator<Buffer> {
      yield semiCompressible(5000, 14);
      await new Promise((resolve) => setTimeout(resolve, 10));
      throw new Error("pg_basebackup exited with code 1");
    }
    await assert.rejects(writer.writeStream("base.tar", failing()), /pg_basebackup exited/);
    await assert.rejects(writer.commit(), /stream\(s\) base\.tar failed/);
    await writer.abort();
    assert.deepEqual(await collect(fixture.repository.list("data/source-failed/")), []);
  });

  test("the writer refuses what would make an ambiguous backup", async () => {
    await assert.rejects(BackupWriter.create({ repository: fixture.repository, keyring: fixture.keyring, backupId: "round-trip", metadata: {} }), ConflictError);
    await assert.rejects(BackupWriter.create({ repository: fixture.repository, keyring: fixture.keyring, backupId: "../escape", metadata: {} }), InvalidError);
    await assert.rejects(BackupWriter.create({ repository: fixture.repository, keyring: fixture.keyring, backupId: "x", metadata: {}, chunkSize: 0 }), InvalidError);
    const writer = await BackupWriter.create({ repository: fixture.repository, keyring: fixture.keyring, backupId: "refusals", metadata: {} });
    assert.throws(() => writer.createStream("../etc/passwd"), InvalidError);
    assert.throws(() => writer.createStream(".hidden"), InvalidError);
    const open = writer.createStream("base.tar");
    assert.throws(() => writer.createStream("base.tar"), ConflictError);
    await assert.rejects(writer.commit(), /not finished/);
    open.end();
    await new Promise((resolve) => open.once("finish", resolve));
    await writer.commit();
    assert.throws(() => writer.createStream("late"), ConflictError);
  });

  test("deleting a backup removes its manifest first, then its data", async () => {
    await writeBackup(fixture.repository, fixture.keyring, "to-delete", { "base.tar": semiCompressible(5000, 13) }, { chunkSize: 1024 });
    assert.ok((await listCompleteBackups(fixture.repository)).includes("to-delete"));
    assert.equal(await deleteBackup(fixture.repository, "to-delete"), 6);
    assert.ok(!(await listCompleteBackups(fixture.repository)).includes("to-delete"));
    assert.deepEqual(await collect(fixture.repository.list("data/to-delete/")), []);
  });
});
