// Incremental backups in the backup format: a chain of real tar archives on a local repository, content reused by
// MAC, restored whole, and a missing, damaged or replaced link refused by name at open and at verify.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Readable } from "node:stream";
import { BackupIntegrityError, BackupWriter, openBackup, verifyBackup, type BackupSummary, type ParentStream, type StreamOptions } from "../../src/backup/index.ts";
import { filesBelow, localFixture, readStream, semiCompressible, writeBackup, type LocalFixture } from "./backup-fixture.ts";

const CHUNK = 64 * 1024;
let fixture: LocalFixture;
let data: string;

/** A ustar archive of the data directory, as pg_basebackup writes one (real `tar`, sorted names). */
function tarOfData(): Buffer {
  return execFileSync("tar", ["--format=ustar", "--sort=name", "--mtime=2024-01-01", "-cf", "-", "-C", data, "."], { maxBuffer: 64 * 1024 * 1024 });
}

async function backupOf(backupId: string, parent?: string, expectedManifestSha256?: string): Promise<{ summary: BackupSummary; tar: Buffer }> {
  const tar = tarOfData();
  const parentOption = parent === undefined ? {} : { parent: { backupId: parent, ...(expectedManifestSha256 === undefined ? {} : { expectedManifestSha256 }) } };
  const summary = await writeBackup(fixture.repository, fixture.keyring, backupId, { "base.tar": tar }, { chunkSize: CHUNK, processMax: 2, ...parentOption });
  return { summary, tar };
}

/** Rewrite `fraction` of a file's bytes in one contiguous range, as an UPDATE of a range of rows does to its pages. */
async function change(file: string, fraction: number, at: number): Promise<void> {
  const bytes = await readFile(join(data, file));
  const length = Math.floor(bytes.length * fraction);
  const start = Math.floor(bytes.length * at);
  randomBytes(length).copy(bytes, start);
  await writeFile(join(data, file), bytes);
}

const objectPath = (key: string): string => join(fixture.repository.root, key);

before(async () => {
  fixture = await localFixture();
  data = join(fixture.directory, "pgdata");
  await mkdir(join(data, "base", "5"), { recursive: true });
  await writeFile(join(data, "PG_VERSION"), "15\n");
  await writeFile(join(data, "base", "5", "1259"), semiCompressible(40_000, 1));
  await writeFile(join(data, "base", "5", "16384"), semiCompressible(2 * 1024 * 1024, 2));
  await writeFile(join(data, "base", "5", "16390"), semiCompressible(512 * 1024, 3));
});
after(() => fixture.cleanup());

describe("incremental chain", () => {
  let full: { summary: BackupSummary; tar: Buffer };
  let incr: { summary: BackupSummary; tar: Buffer };
  let incr2: { summary: BackupSummary; tar: Buffer };

  test("after 5% of the big table and a small file changed, the incremental stores a small part and reads back whole", async () => {
    full = await backupOf("full");
    assert.equal(full.summary.reusedChunks, 0);
    await change(join("base", "5", "16384"), 0.05, 0.4);
    // A small file before the big one grows: a fixed-size cut of the stream would shift everything after it.
    await writeFile(join(data, "base", "5", "1259"), semiCompressible(41_000, 4));
    incr = await backupOf("incr", "full", full.summary.manifestSha256);
    assert.ok(incr.summary.reusedChunks >= incr.summary.chunks * 0.7, `${incr.summary.reusedChunks} of ${incr.summary.chunks} chunks reused`);
    assert.ok(incr.summary.storedBytes < full.summary.storedBytes * 0.3, `incremental stored ${incr.summary.storedBytes} bytes, full ${full.summary.storedBytes}`);
    const reader = await openBackup({ repository: fixture.repository, keyring: fixture.keyring, backupId: "incr", expectedManifestSha256: incr.summary.manifestSha256 });
    assert.deepEqual(reader.chain, ["full"]);
    // What it stored itself, as the writer counted it (a restarted node agent reports this size from the reader).
    assert.equal(reader.streams[0]?.storedBytes, incr.summary.storedBytes);
    assert.ok((await readStream(reader, "base.tar")).equals(incr.tar));
    assert.notDeepEqual(incr.tar, full.tar);
  });

  test("an incremental on an incremental reads chunks from both links; verify checks the whole chain", async () => {
    await change(join("base", "5", "16390"), 0.1, 0.1);
    incr2 = await backupOf("incr2", "incr", incr.summary.manifestSha256);
    const reader = await openBackup({ repository: fixture.repository, keyring: fixture.keyring, backupId: "incr2" });
    assert.deepEqual(reader.chain, ["full", "incr"]);
    assert.ok((await readStream(reader, "base.tar")).equals(incr2.tar));
    const report = await verifyBackup({ repository: fixture.repository, keyring: fixture.keyring, backupId: "incr2" });
    assert.equal(report.ok, true, JSON.stringify(report.problems));
    assert.deepEqual(report.unreferencedObjects, []);
  });

  test("no plaintext of the data in the repository, reused chunks included", async () => {
    const needle = semiCompressible(40_000, 2).subarray(1000, 1032);
    for (const file of await filesBelow(fixture.repository.root)) assert.equal(file.bytes.indexOf(needle), -1, file.path);
  });

  test("a flipped byte in a chunk the parent stored is named at verify of the child, with the parent's backup", async () => {
    const chunk = (await openBackup({ repository: fixture.repository, keyring: fixture.keyring, backupId: "incr2" })).chunkList().find((item) => item.key.startsWith("data/full/"));
    assert.ok(chunk !== undefined);
    const path = objectPath(chunk.key);
    const original = await readFile(path);
    const flipped = Buffer.from(original);
    flipped[flipped.length >> 1]! ^= 0x01;
    await writeFile(path, flipped);
    try {
      const report = await verifyBackup({ repository: fixture.repository, keyring: fixture.keyring, backupId: "incr2" });
      assert.equal(report.ok, false);
      assert.deepEqual(report.problems.map((problem) => [problem.problem, problem.objectKey]), [["checksum", chunk.key]]);
      assert.match(report.problems[0]?.message ?? "", /backup full stream "base\.tar" chunk \d+/);
    } finally {
      await writeFile(path, original);
    }
  });

  test("a missing link is refused by name when opening (restore) and at verify", async () => {
    const manifest = objectPath("manifests/full.json");
    const saved = await readFile(manifest);
    await rm(manifest);
    try {
      await assert.rejects(openBackup({ repository: fixture.repository, keyring: fixture.keyring, backupId: "incr2" }), (error: unknown) => {
        assert.ok(error instanceof BackupIntegrityError);
        assert.equal(error.problem, "missing");
        assert.match(error.message, /backup full \(object manifests\/full\.json\).*link of the incremental chain of backup incr2/);
        return true;
      });
      const report = await verifyBackup({ repository: fixture.repository, keyring: fixture.keyring, backupId: "incr" });
      assert.equal(report.ok, false);
      assert.deepEqual(report.problems.map((problem) => [problem.problem, problem.objectKey]), [["missing", "manifests/full.json"]]);
    } finally {
      await writeFile(manifest, saved);
    }
  });

  test("a damaged link manifest, or a link deleted and taken again under its id, is refused by name", async () => {
    const manifest = objectPath("manifests/incr.json");
    const saved = await readFile(manifest);
    await writeFile(manifest, Buffer.concat([saved.subarray(0, 40), Buffer.from("x"), saved.subarray(41)]));
    try {
      await assert.rejects(openBackup({ repository: fixture.repository, keyring: fixture.keyring, backupId: "incr2" }), /backup incr \(object manifests\/incr\.json\).*link of the incremental chain of backup incr2/);
    } finally {
      await writeFile(manifest, saved);
    }
    await rm(objectPath("manifests/full.json"));
    await backupOf("full");
    await assert.rejects(openBackup({ repository: fixture.repository, keyring: fixture.keyring, backupId: "incr" }), /backup full .*created at .*deleted and taken again/);
  });

  test("a parent that is not the recorded one, or the backup itself, is refused before anything is written", async () => {
    await assert.rejects(backupOf("incr3", "incr2", "0".repeat(64)), /not the one recorded/);
    await assert.rejects(backupOf("self", "self"), /cannot be its own parent/);
  });
});

describe("blocks the stream's method vouches unchanged", () => {
  const big = join("base", "5", "16384");
  /** A backup of the data directory's tar with `options` for its stream. */
  async function backupWith(backupId: string, options: StreamOptions, parent?: string): Promise<{ summary: BackupSummary; tar: Buffer }> {
    const tar = tarOfData();
    const writer = await BackupWriter.create({ repository: fixture.repository, keyring: fixture.keyring, backupId, metadata: {}, chunkSize: CHUNK, processMax: 2, ...(parent === undefined ? {} : { parent: { backupId: parent } }) });
    await writer.writeStream("base.tar", Readable.from([tar]), options);
    return { summary: await writer.commit(), tar };
  }

  test("are taken from the parent at the same file and offset without hashing; the rest goes by content; all reads back", async () => {
    await backupWith("lsn-full", { attributes: { startLsn: "1/0" } });
    // A contiguous 5% of the big file changes; the test vouches for every block but the ones it covers.
    const bytes = await readFile(join(data, big));
    const from = Math.floor(bytes.length * 0.5);
    const to = from + Math.floor(bytes.length * 0.05);
    await change(big, 0.05, 0.5);
    const asked: Array<[string, number, string | undefined]> = [];
    const incr = await backupWith("lsn-incr", {
      attributes: { startLsn: "2/0" },
      unchangedSince: (parentAttributes) => (file, offset, block) => {
        asked.push([file, offset, parentAttributes["startLsn"]]);
        return offset + block.length <= from || offset >= to;
      },
    }, "lsn-full");
    const blocks = Math.ceil(bytes.length / CHUNK);
    assert.equal(asked.filter(([file]) => file === `./${big}`).length, blocks, "every block of the big file was asked about");
    assert.ok(asked.every(([, , start]) => start === "1/0"), "the test got the parent's attributes");
    assert.ok(incr.summary.reusedChunks >= blocks - 2, `reused ${incr.summary.reusedChunks}`);
    const reader = await openBackup({ repository: fixture.repository, keyring: fixture.keyring, backupId: "lsn-incr" });
    assert.ok((await readStream(reader, "base.tar")).equals(incr.tar));
    const report = await verifyBackup({ repository: fixture.repository, keyring: fixture.keyring, backupId: "lsn-incr" });
    assert.equal(report.ok, true);
  });

  test("a parent without attributes for the stream gets no test: content MACs decide, and it still reads back whole", async () => {
    let asked = 0;
    await change(big, 0.01, 0.1);
    const incr = await backupWith("lsn-after-mac", { unchangedSince: () => () => ++asked > 0 }, "full");
    assert.equal(asked, 0);
    const reader = await openBackup({ repository: fixture.repository, keyring: fixture.keyring, backupId: "lsn-after-mac" });
    assert.ok((await readStream(reader, "base.tar")).equals(incr.tar));
  });

  test("blocks stored without a content MAC are reused only through the test, and everything still reads back", async () => {
    await backupWith("nomac-full", { attributes: { startLsn: "1/0" }, handsOver: true, macPlacedChunks: false });
    const blocks = Math.ceil((await readFile(join(data, big))).length / CHUNK);
    const byContent = await backupWith("nomac-by-content", {}, "nomac-full");
    const byTest = await backupWith("nomac-by-test", { unchangedSince: () => () => true }, "nomac-full");
    assert.ok(byTest.summary.reusedChunks >= byContent.summary.reusedChunks + blocks, `${byTest.summary.reusedChunks} vs ${byContent.summary.reusedChunks}`);
    for (const [backupId, tar] of [["nomac-full", undefined], ["nomac-by-content", byContent.tar], ["nomac-by-test", byTest.tar]] as const) {
      const reader = await openBackup({ repository: fixture.repository, keyring: fixture.keyring, backupId });
      const read = await readStream(reader, "base.tar");
      if (tar !== undefined) assert.ok(read.equals(tar), backupId);
    }
  });

  /** Where a member's data starts in a ustar archive, and its size. */
  function memberOf(tar: Buffer, name: string): { dataStart: number; size: number } {
    for (let at = 0; at + 512 <= tar.length;) {
      const size = Number.parseInt(tar.toString("latin1", at + 124, at + 136).replace(/\0.*$/, "").trim() || "0", 8);
      if (tar.toString("latin1", at, at + 100).replace(/\0.*$/, "") === name) return { dataStart: at + 512, size };
      at += 512 + Math.ceil(size / 512) * 512;
    }
    throw new Error(`${name} is not in the archive`);
  }

  /** The archive, with the chunks of `name` that `skip` picks written as the parent's placeholders. */
  function* withPlaceholders(tar: Buffer, name: string, parent: () => ParentStream | undefined, skip: (offset: number, length: number) => boolean): Generator<Buffer> {
    const { dataStart, size } = memberOf(tar, name);
    yield tar.subarray(0, dataStart);
    for (let offset = 0; offset < size; offset += CHUNK) {
      const length = Math.min(CHUNK, size - offset);
      const view = parent();
      const placed = view !== undefined && skip(offset, length) && view.holds(name, offset, length);
      yield placed ? view.placeholder(length) : tar.subarray(dataStart + offset, dataStart + offset + length);
    }
    yield tar.subarray(dataStart + size);
  }

  test("chunks written as placeholders are the parent's, unread; the stream reads back byte for byte", async () => {
    await backupWith("map-full", { attributes: { startLsn: "1/0" }, macPlacedChunks: false });
    const bytes = await readFile(join(data, big));
    const from = Math.floor(bytes.length * 0.3);
    const to = from + Math.floor(bytes.length * 0.05);
    await change(big, 0.05, 0.3);
    const tar = tarOfData();
    let parent: ParentStream | undefined;
    const writer = await BackupWriter.create({ repository: fixture.repository, keyring: fixture.keyring, backupId: "map-incr", metadata: {}, chunkSize: CHUNK, processMax: 2, parent: { backupId: "map-full" } });
    const source = Readable.from(withPlaceholders(tar, `./${big}`, () => parent, (offset, length) => offset + length <= from || offset >= to), { objectMode: false });
    await writer.writeStream("base.tar", source, {
      attributes: { startLsn: "2/0" },
      macPlacedChunks: false,
      withParent: (view) => {
        parent = view;
        view.note(`parent started at ${view.attributes["startLsn"]}`);
      },
    });
    const summary = await writer.commit();
    const blocks = Math.ceil(bytes.length / CHUNK);
    assert.ok(summary.reusedChunks >= blocks - 2, `reused ${summary.reusedChunks} of ${blocks}`);
    assert.deepEqual(summary.streams[0]?.notes, ["parent started at 1/0"]);
    const reader = await openBackup({ repository: fixture.repository, keyring: fixture.keyring, backupId: "map-incr" });
    assert.ok((await readStream(reader, "base.tar")).equals(tar), "the placeholders' zeros were not stored");
    assert.equal((await verifyBackup({ repository: fixture.repository, keyring: fixture.keyring, backupId: "map-incr" })).ok, true);
  });

  test("a placeholder off the chunk boundaries, or where the parent holds no such chunk, fails the backup", async () => {
    await writeFile(join(data, "base", "5", "16500"), semiCompressible(3 * CHUNK, 4));
    const tar = tarOfData();
    const { dataStart } = memberOf(tar, `./${big}`);
    const added = memberOf(tar, "./base/5/16500").dataStart;
    const attempt = async (backupId: string, source: (parent: ParentStream) => Iterable<Buffer>): Promise<void> => {
      const writer = await BackupWriter.create({ repository: fixture.repository, keyring: fixture.keyring, backupId, metadata: {}, chunkSize: CHUNK, processMax: 2, parent: { backupId: "map-full" } });
      let parent: ParentStream | undefined;
      const lazy = function* (): Generator<Buffer> {
        if (parent === undefined) throw new Error("no parent view");
        yield* source(parent);
      };
      try {
        await writer.writeStream("base.tar", Readable.from(lazy(), { objectMode: false }), { withParent: (view) => (parent = view) });
        await writer.commit();
      } finally {
        await writer.abort().catch(() => undefined);
      }
    };
    const half = CHUNK / 2;
    await assert.rejects(attempt("map-misaligned", (parent) => [tar.subarray(0, dataStart + half), parent.placeholder(CHUNK), tar.subarray(dataStart + half + CHUNK)]), /does not fall on the chunk boundaries/);
    await assert.rejects(attempt("map-no-parent-chunk", (parent) => [tar.subarray(0, added), parent.placeholder(CHUNK), tar.subarray(added + CHUNK)]), /the parent holds no such chunk/);
  });
});

describe("small members the stream's method left unread", () => {
  // Before base/5, whose first file is a large member: the run of small files ends where its chunk starts.
  const dir = join("base", "4");
  /** The archive's members, each with where its header and data lie. */
  function membersOf(tar: Buffer): Array<{ name: string; at: number; size: number; regular: boolean }> {
    const members: Array<{ name: string; at: number; size: number; regular: boolean }> = [];
    for (let at = 0; at + 512 <= tar.length && tar[at] !== 0;) {
      const size = Number.parseInt(tar.toString("latin1", at + 124, at + 136).replace(/\0.*$/, "").trim() || "0", 8);
      const type = tar[at + 156];
      members.push({ name: tar.toString("latin1", at, at + 100).replace(/\0.*$/, ""), at, size, regular: type === 0x30 || type === 0 });
      at += 512 + Math.ceil(size / 512) * 512;
    }
    return members;
  }

  /** The archive with the data of the small regular files `unread` picks written as unread zeros; counts the loads. */
  function* leavingUnread(tar: Buffer, parent: () => ParentStream | undefined, unread: (name: string) => boolean, loads: string[]): Generator<Buffer> {
    let from = 0;
    for (const member of membersOf(tar)) {
      const view = parent();
      if (view === undefined || !member.regular || member.size === 0 || member.size >= CHUNK / 4 || !unread(member.name)) continue;
      const dataStart = member.at + 512;
      yield tar.subarray(from, dataStart);
      yield view.unread(member.size, (offset, target) => {
        loads.push(member.name);
        tar.copy(target, 0, dataStart + offset, dataStart + offset + target.length);
        return Promise.resolve();
      });
      from = dataStart + member.size;
    }
    yield tar.subarray(from);
  }

  async function incrementalOf(backupId: string, parentId: string, unread: (name: string) => boolean): Promise<{ summary: BackupSummary; tar: Buffer; loads: string[] }> {
    const tar = tarOfData();
    const loads: string[] = [];
    let parent: ParentStream | undefined;
    const writer = await BackupWriter.create({ repository: fixture.repository, keyring: fixture.keyring, backupId, metadata: {}, chunkSize: CHUNK, processMax: 2, parent: { backupId: parentId } });
    await writer.writeStream("base.tar", Readable.from(leavingUnread(tar, () => parent, unread, loads), { objectMode: false }), { attributes: { startLsn: "3/0" }, withParent: (view) => (parent = view) });
    const summary = await writer.commit();
    const reader = await openBackup({ repository: fixture.repository, keyring: fixture.keyring, backupId });
    assert.ok((await readStream(reader, "base.tar")).equals(tar), `${backupId} reads back byte for byte`);
    assert.equal((await verifyBackup({ repository: fixture.repository, keyring: fixture.keyring, backupId })).ok, true);
    return { summary, tar, loads };
  }

  test("chunks whose every file was left unread and whose tar headers are the parent's are the parent's, unread", async () => {
    await mkdir(join(data, dir), { recursive: true });
    for (let index = 0; index < 60; index++) await writeFile(join(data, dir, `${2600 + index}`), semiCompressible(3000 + index, 10 + index));
    const parentTar = tarOfData();
    const writer = await BackupWriter.create({ repository: fixture.repository, keyring: fixture.keyring, backupId: "unread-full", metadata: {}, chunkSize: CHUNK, processMax: 2 });
    await writer.writeStream("base.tar", Readable.from([parentTar]), { attributes: { startLsn: "2/0" } });
    await writer.commit();
    const same = await incrementalOf("unread-same", "unread-full", () => true);
    assert.deepEqual(same.loads, [], "nothing read: every chunk of small files has the parent's layout");
    assert.equal(same.summary.storedBytes, 0);
    assert.equal(same.summary.reusedChunks, same.summary.chunks);
  });

  test("a file changed (same size, same header) and read makes its chunk's unread files be read after all", async () => {
    const changed = `./${dir}/2630`;
    await writeFile(join(data, dir, "2630"), semiCompressible(3030, 999));
    const incr = await incrementalOf("unread-one-changed", "unread-full", (name) => name !== changed);
    assert.ok(incr.loads.length > 0 && incr.loads.length < 60, `${incr.loads.length} loads`);
    assert.ok(incr.summary.storedBytes > 0, "the changed chunk was stored");
  });

  test("unread data whose headers differ from the parent's (a grown file before it) is read, and reads back whole", async () => {
    await writeFile(join(data, dir, "2601"), semiCompressible(5000, 7));
    // Both differ from the parent's copies now (2630 since the test before): neither may be vouched unread.
    const changed = new Set([`./${dir}/2601`, `./${dir}/2630`]);
    const incr = await incrementalOf("unread-shifted", "unread-full", (name) => !changed.has(name));
    assert.ok(incr.loads.length > 0, "the chunks around the changed files were read");
    assert.ok(incr.summary.reusedChunks > 0, "chunks cut by name after the grown file are the parent's");
  });
});
