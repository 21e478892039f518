// Changed, missing, reordered or moved bytes: verify names every bad object, the reader refuses each before use.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { localFixture, semiCompressible, writeBackup, type LocalFixture } from "./backup-fixture.ts";
import { BackupIntegrityError, openBackup, rewrapBackup, verifyBackup, type BackupRepository, type BackupSummary, type IntegrityProblem } from "../../src/backup/index.ts";

const CHUNK = 4096;
const STREAMS = { "base.tar": semiCompressible(3 * CHUNK + 100, 21), "wal/000000010000000000000001": semiCompressible(2 * CHUNK, 22) };
let fixture: LocalFixture;
let summary: BackupSummary;
let pristine: Map<string, Buffer>;

before(async () => {
  fixture = await localFixture();
  summary = await writeBackup(fixture.repository, fixture.keyring, "target", STREAMS, { chunkSize: CHUNK });
  await writeBackup(fixture.repository, fixture.keyring, "other", STREAMS, { chunkSize: CHUNK });
  pristine = new Map();
  for await (const object of fixture.repository.list("")) pristine.set(object.key, await fixture.repository.get(object.key));
});
after(() => fixture.cleanup());
beforeEach(async () => {
  // Every test starts from the untouched repository.
  const present = new Set<string>();
  for await (const object of fixture.repository.list("")) present.add(object.key);
  for (const key of present) if (!pristine.has(key)) await fixture.repository.delete(key);
  for (const [key, bytes] of pristine) await fixture.repository.put(key, bytes);
});

const options = { get repository() { return fixture.repository; }, get keyring() { return fixture.keyring; }, backupId: "target" };
const keysOf = (prefix: string): string[] => [...pristine.keys()].filter((key) => key.startsWith(prefix)).sort();
const chunkKeys = (): string[] => keysOf("data/target/");

/** The real repository, except that `key` reads as `bytes`. */
function overlay(key: string, bytes: Buffer): BackupRepository {
  const real = fixture.repository;
  return {
    location: real.location,
    put: (k, body, putOptions) => real.put(k, body, putOptions),
    flush: (keys) => real.flush(keys),
    get: (k, getOptions) => (k === key ? Promise.resolve(bytes) : real.get(k, getOptions)),
    list: (prefix) => real.list(prefix),
    delete: (k) => real.delete(k),
    sweepIncompleteUploads: (olderThan, under) => real.sweepIncompleteUploads(olderThan, under),
  };
}

async function readEverything(): Promise<void> {
  const reader = await openBackup(options);
  for (const stream of reader.streams) await reader.openStream(stream.name).toArray();
}

async function expectDetected(objectKey: string, problem: IntegrityProblem | IntegrityProblem[]): Promise<void> {
  const report = await verifyBackup(options);
  assert.equal(report.ok, false);
  assert.ok(report.problems.length >= 1);
  const named = report.problems.find((p) => p.objectKey === objectKey);
  assert.ok(named, `no problem names ${objectKey}: ${JSON.stringify(report.problems)}`);
  assert.ok([problem].flat().includes(named.problem), `expected ${String(problem)}, got ${named.problem}`);
  assert.ok(named.message.includes(objectKey));
  await assert.rejects(readEverything(), (error: unknown) => error instanceof BackupIntegrityError && error.message.includes(objectKey));
}

describe("any changed byte is caught", () => {
  test("the untouched backup verifies", async () => {
    const report = await verifyBackup({ ...options, expectedManifestSha256: summary.manifestSha256 });
    assert.equal(report.ok, true, JSON.stringify(report.problems));
    assert.equal(report.chunksVerified, 6);
  });

  test("flipping one byte of any chunk: verify names exactly that chunk (stream, index, key), the reader refuses it", async () => {
    for (const key of chunkKeys()) {
      const original = pristine.get(key)!;
      for (const position of [0, Math.floor(original.length / 2), original.length - 1]) {
        const changed = Buffer.from(original);
        changed[position] = changed[position]! ^ 0x01;
        await fixture.repository.put(key, changed);
        const report = await verifyBackup(options);
        assert.equal(report.problems.length, 1, `${key}@${position}: ${JSON.stringify(report.problems)}`);
        const [problem] = report.problems;
        assert.equal(problem!.objectKey, key);
        assert.equal(problem!.problem, "checksum");
        assert.match(problem!.message, /stream "(base\.tar|wal\/000000010000000000000001)" chunk \d/);
        await assert.rejects(readEverything(), BackupIntegrityError);
        await fixture.repository.put(key, original);
      }
    }
  });

  test("flipping the low or the high bit of any manifest byte makes the whole backup refused", async () => {
    const key = "manifests/target.json";
    const original = pristine.get(key)!;
    // Every byte position, two bit masks: served from memory over the real repository to keep thousands of cases fast.
    for (let position = 0; position < original.length; position++) {
      for (const mask of [0x01, 0x80]) {
        const changed = Buffer.from(original);
        changed[position] = changed[position]! ^ mask;
        const repository = { ...options, repository: overlay(key, changed) };
        await assert.rejects(openBackup(repository), (error: unknown) => {
          assert.ok(error instanceof BackupIntegrityError, `byte ${position} mask ${mask}: ${String(error)}`);
          assert.equal(error.problem, "manifest");
          assert.equal(error.location.objectKey, key);
          return true;
        });
      }
    }
  });

  test("a changed manifest shows up in verify as a manifest problem", async () => {
    const key = "manifests/target.json";
    const changed = Buffer.from(pristine.get(key)!);
    changed[changed.length - 10] = changed[changed.length - 10]! ^ 0x04;
    await fixture.repository.put(key, changed);
    await expectDetected(key, "manifest");
  });
});

describe("missing, reordered, moved or truncated chunks are caught", () => {
  test("a deleted chunk", async () => {
    const key = chunkKeys()[1]!;
    await fixture.repository.delete(key);
    await expectDetected(key, "missing");
  });

  test("two chunks of a stream swapped", async () => {
    const [first, second] = chunkKeys();
    await fixture.repository.put(first!, pristine.get(second!)!);
    await fixture.repository.put(second!, pristine.get(first!)!);
    await expectDetected(first!, ["checksum", "size"]);
    const report = await verifyBackup(options);
    assert.deepEqual(report.problems.map((p) => p.objectKey).sort(), [first, second].sort());
  });

  test("a chunk replaced by the same chunk of another backup", async () => {
    const key = chunkKeys()[0]!;
    const foreign = keysOf("data/other/")[0]!;
    await fixture.repository.put(key, pristine.get(foreign)!);
    await expectDetected(key, ["checksum", "size"]);
  });

  test("the last chunk truncated, or extended", async () => {
    const last = chunkKeys().filter((key) => key.includes("/0000/")).at(-1)!;
    const original = pristine.get(last)!;
    await fixture.repository.put(last, original.subarray(0, original.length - 5));
    await expectDetected(last, "size");
    await fixture.repository.put(last, Buffer.concat([original, Buffer.from("junk")]));
    await expectDetected(last, "size");
  });

  test("another backup's manifest put in place of this one's", async () => {
    await fixture.repository.put("manifests/target.json", pristine.get("manifests/other.json")!);
    await expectDetected("manifests/target.json", "manifest");
  });

  test("an older authentic manifest put back is refused when the recorded manifest digest is given", async () => {
    const key = "manifests/target.json";
    const { manifestSha256 } = await rewrapBackup(options);
    await fixture.repository.put(key, pristine.get(key)!);
    await assert.rejects(openBackup({ ...options, expectedManifestSha256: manifestSha256 }), /not the one recorded/);
  });

  test("the reader hands out the good chunks before a bad one, and nothing of the bad one", async () => {
    const key = chunkKeys()[2]!; // base.tar chunk 2
    const changed = Buffer.from(pristine.get(key)!);
    changed[7] = changed[7]! ^ 0xff;
    await fixture.repository.put(key, changed);
    const reader = await openBackup(options);
    const received: Buffer[] = [];
    await assert.rejects(
      (async () => {
        for await (const piece of reader.openStream("base.tar", { prefetch: 3 })) received.push(piece as Buffer);
      })(),
      (error: unknown) => {
        assert.ok(error instanceof BackupIntegrityError);
        assert.deepEqual([error.location.stream, error.location.chunkIndex, error.location.objectKey], ["base.tar", 2, key]);
        return true;
      },
    );
    assert.ok(Buffer.concat(received).equals(STREAMS["base.tar"].subarray(0, 2 * CHUNK)));
  });
});
