import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { BackupIntegrityError, BackupWriter, LocalRepository, openBackup, type BackupKeyring } from "../backup/index.ts";
import { InvalidError, UnavailableError } from "../errors/index.ts";
import { loadOrCreateKeyring } from "../security/index.ts";
import { processExists } from "../util/index.ts";
import { spareProcessIds, stopSpareProcesses } from "../child-process/index.ts";
import { archiveInOwnProcess, keepBackupProcessReady, parseArchiveMessage, type ArchiveHandlers, type ArchiveJob } from "./index.ts";
import { callerLaneFor, replyError, replyTo } from "./protocol.ts";

const MIB = 1024 * 1024;
const SEGMENT = "000000010000000000000001";
/** What the SQL session would answer: a backup started and stopped inside WAL segment 1 of timeline 1. */
const STARTED = { startLsn: "0/1000028", timeline: 1, checkpointMs: 3, startedAt: Date.now() };
const STOPPED = { lsn: "0/1000100", labelfile: "START WAL LOCATION: 0/1000028 (file 000000010000000000000001)\n", spcmapfile: null };

interface Scratch {
  work: string;
  dataDirectory: string;
  repository: LocalRepository;
  keyring: BackupKeyring;
}

/** Run `body` with a data directory (a relation file of `relationBytes`, pg_control, one WAL segment) and a local repository. */
async function inScratch(relationBytes: number, body: (scratch: Scratch, relation: Buffer) => Promise<void>): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), "backup-proc-unit-"));
  try {
    const dataDirectory = join(work, "data");
    for (const directory of ["base/5", "global", "pg_wal/archive_status"]) await mkdir(join(dataDirectory, directory), { recursive: true });
    const relation = randomBytes(relationBytes);
    await writeFile(join(dataDirectory, "base/5/16384"), relation);
    await writeFile(join(dataDirectory, "global/pg_control"), Buffer.alloc(8192, 7));
    await writeFile(join(dataDirectory, "postmaster.pid"), "42\n");
    await writeFile(join(dataDirectory, "pg_wal", SEGMENT), randomBytes(64 * 1024));
    const repository = await LocalRepository.open(join(work, "repo"));
    const keyring = await loadOrCreateKeyring(join(work, "keyring.json"));
    await body({ work, dataDirectory, repository, keyring }, relation);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function newWriter(scratch: Scratch, chunkSize = 4 * MIB): Promise<BackupWriter> {
  return BackupWriter.create({ repository: scratch.repository, keyring: scratch.keyring, backupId: "b1", metadata: {}, chunkSize, processMax: 1 });
}

function jobFor(scratch: Scratch, writer: BackupWriter): ArchiveJob {
  const facts = { fullPageWrites: true, blockSize: 8192, relationSegmentBlocks: 131072, walSegmentSize: 16 * MIB, systemIdentifier: "7000000000000000001" };
  return { archive: "postgresql-datadir", repository: { provider: "local", path: join(scratch.work, "repo") }, grant: writer.grantStream("base.tar"), job: { dataDirectory: scratch.dataDirectory, facts }, processMax: 1 };
}

/** The SQL session's answers, counted. */
function session(calls: string[], overrides: Partial<Record<string, () => Promise<unknown>>> = {}): ArchiveHandlers["call"] {
  return (name) => {
    calls.push(name);
    const override = overrides[name];
    if (override !== undefined) return override();
    return Promise.resolve(name === "start" ? STARTED : STOPPED);
  };
}


describe("the backup process's messages", () => {
  it("carry an error answered to a call back as the same class, an integrity error with its chunk", () => {
    const integrity = new BackupIntegrityError("authentication", { backupId: "b0", objectKey: "data/b0/x", stream: "base.tar", chunkIndex: 2 }, "the tag does not match");
    const back = replyError(JSON.parse(JSON.stringify(replyTo(4, { error: integrity }).error)));
    assert.ok(back instanceof BackupIntegrityError);
    assert.deepEqual(back.location, integrity.location);
    const refused = replyError(replyTo(5, { error: new InvalidError("no such call") }).error);
    assert.ok(refused instanceof InvalidError);
    assert.equal(refused.message, "no such call");
    assert.deepEqual(replyTo(6, { value: { lsn: "0/1" } }), { type: "reply", id: 6, value: { lsn: "0/1" } });
    assert.match(replyError({ kind: "odd" }).message, /not of the protocol/);
  });

  it("refuse what is not of the protocol", () => {
    assert.deepEqual(parseArchiveMessage({ type: "progress", plaintextBytes: 5, storedBytes: 3 }), { type: "progress", plaintextBytes: 5, storedBytes: 3 });
    assert.equal(parseArchiveMessage({ type: "progress", plaintextBytes: -1, storedBytes: 0 }), undefined);
    assert.equal(parseArchiveMessage({ type: "call", id: 0, name: "stop" }), undefined);
    assert.equal(parseArchiveMessage({ type: "done", written: { chunks: [], notes: [] }, peakBytes: 1 }), undefined);
    assert.equal(parseArchiveMessage({ type: "failed", failure: { kind: "error", code: 5 } }), undefined);
  });
});

describe("the backup process's main thread as an encoder", () => {
  it("encodes too in an incremental with a core to spare, unless the job sets process-max; never in a full", () => {
    const incremental = { grant: { base: { contentKey: randomBytes(32).toString("base64"), reusable: [], blocks: [], layouts: [], attributes: [] } } };
    assert.equal(callerLaneFor(incremental, 1, 2), true);
    assert.equal(callerLaneFor(incremental, 2, 2), false, "no core beyond the workers");
    assert.equal(callerLaneFor({ ...incremental, processMax: 1 }, 1, 2), false, "process-max set: as many threads as it says");
    assert.equal(callerLaneFor({ grant: {} }, 1, 2), false);
  });
});

describe("a writer's granted stream", () => {
  it("cannot be committed until adopted, and refuses chunks stored outside the writer's session", async () => {
    await inScratch(1024, async (scratch) => {
      const writer = await newWriter(scratch);
      const grant = writer.grantStream("base.tar");
      assert.equal(grant.ordinal, 0);
      assert.deepEqual(Object.keys(grant).sort(), ["backupId", "chunkKey", "chunkSize", "compression", "contentKey", "level", "ordinal", "sessionPrefix", "stream"], "the chunk key, not the data key nor the manifest key");
      await assert.rejects(writer.commit(), /not finished/);
      const foreign = { index: 0, key: "data/b9/other/0000/00000000", storedBytes: 1, plaintextBytes: 1, sha256: "0".repeat(64) };
      assert.throws(() => writer.adoptStream("base.tar", { chunks: [foreign], notes: [] }), InvalidError);
      const granted = BackupWriter.fromGrant(scratch.repository, grant);
      await assert.rejects(granted.commit(), /stores chunks only/);
      await granted.close();
      await writer.abort();
    });
  });
});

describe("a writer's granted stream, its MACs", () => {
  it("are under the granting writer's content key, the one its manifest records: the next incremental reuses every chunk", async () => {
    await inScratch(1024, async (scratch) => {
      const data = randomBytes(3 * MIB);
      const options = { repository: scratch.repository, keyring: scratch.keyring, metadata: {}, chunkSize: MIB, processMax: 1 };
      const full = await BackupWriter.create({ ...options, backupId: "g1" });
      const granted = BackupWriter.fromGrant(scratch.repository, full.grantStream("s"), { processMax: 1 });
      await granted.writeStream("s", Readable.from([data]));
      full.adoptStream("s", granted.written("s"));
      await granted.close();
      await full.commit();
      const next = await BackupWriter.create({ ...options, backupId: "g2", parent: { backupId: "g1" } });
      await next.writeStream("s", Readable.from([data]));
      const summary = await next.commit();
      assert.equal(summary.reusedChunks, 3, "every chunk matched by its content MAC");
      assert.equal(summary.storedBytes, 0);
    });
  });
});

describe("a data-directory backup in its own process", () => {
  it("writes the tar (files, pg_control, label, WAL) under the grant; the writer adopts it, counts every byte and commits", async () => {
    await inScratch(9 * MIB, async (scratch, relation) => {
      const writer = await newWriter(scratch);
      const calls: string[] = [];
      let counted = 0;
      const compileCache = join(scratch.work, "cache", "modules");
      const result = await archiveInOwnProcess(jobFor(scratch, writer), {
        call: session(calls),
        onChunk: (plaintext, stored) => {
          counted += plaintext;
          writer.countGrantedChunk("base.tar", plaintext, stored);
        },
      }, compileCache);
      assert.deepEqual(calls, ["start", "stop"]);
      assert.equal((await stat(compileCache)).mode & 0o777, 0o700, "the compile cache is root's own");
      assert.ok((await readdir(compileCache, { recursive: true })).length > 0, "the process's modules were compiled into the cache");
      writer.adoptStream("base.tar", result.written);
      const summary = await writer.commit();
      assert.equal(counted, summary.plaintextBytes, "every plaintext byte was counted");
      assert.ok(result.peakBytes > 20 * MIB && result.peakBytes < 512 * MIB, `peak ${result.peakBytes}`);
      const reader = await openBackup({ repository: scratch.repository, keyring: scratch.keyring, backupId: "b1", expectedManifestSha256: summary.manifestSha256 });
      const tar = await buffer(reader.openStream("base.tar"));
      const restored = join(scratch.work, "restored");
      await mkdir(restored);
      execFileSync("tar", ["-x", "-f", "-", "-C", restored], { input: tar });
      assert.deepEqual(await readFile(join(restored, "base/5/16384")), relation);
      assert.match(await readFile(join(restored, "backup_label"), "utf8"), /START WAL LOCATION/);
      assert.deepEqual((await readdir(join(restored, "pg_wal/archive_status"))).sort(), [`${SEGMENT}.done`]);
      assert.equal((await readdir(restored)).includes("postmaster.pid"), false);
    });
  });

  it("kept ready: the backup takes the process started ahead of it", async () => {
    await inScratch(1 * MIB, async (scratch) => {
      const compileCache = join(scratch.work, "cache");
      keepBackupProcessReady(compileCache, { replaceAfterMs: 60_000 });
      try {
        let spare: number | undefined;
        for (const end = Date.now() + 20_000; spare === undefined && Date.now() < end; await new Promise((resolve) => setTimeout(resolve, 50))) spare = spareProcessIds()[0];
        assert.ok(spare !== undefined, "a process was started ahead");
        const writer = await newWriter(scratch);
        let pid = 0;
        const result = await archiveInOwnProcess(jobFor(scratch, writer), { call: session([]), onStart: (started) => (pid = started), onChunk: (plaintext, stored) => writer.countGrantedChunk("base.tar", plaintext, stored) }, compileCache);
        assert.equal(pid, spare, "the job went to the process started ahead of it");
        writer.adoptStream("base.tar", result.written);
        assert.ok((await writer.commit()).plaintextBytes > MIB);
      } finally {
        stopSpareProcesses();
      }
    });
  });

  it("fails with the error the session's stop failed with, and leaves the stream unwritten", async () => {
    await inScratch(1 * MIB, async (scratch) => {
      const writer = await newWriter(scratch);
      const failing = session([], { stop: () => Promise.reject(new InvalidError("pg_backup_stop refused")) });
      await assert.rejects(archiveInOwnProcess(jobFor(scratch, writer), { call: failing }), (error: unknown) => error instanceof InvalidError && error.message === "pg_backup_stop refused");
      await assert.rejects(writer.commit(), /not finished/);
      await writer.abort();
    });
  });

  it("killed with SIGKILL half-way is a failed attempt: no adoption, no commit, and the writer's abort removes its chunks", async () => {
    await inScratch(48 * MIB, async (scratch) => {
      const writer = await newWriter(scratch, 1 * MIB);
      let pid = 0;
      const killer = { onStart: (started: number) => (pid = started), onChunk: () => processExists(pid) && process.kill(pid, "SIGKILL") };
      await assert.rejects(archiveInOwnProcess(jobFor(scratch, writer), { call: session([]), ...killer }), (error: unknown) => error instanceof UnavailableError && /ended on SIGKILL before the backup's stream was whole/.test(error.message));
      await assert.rejects(writer.commit(), /not finished/);
      const removed = await writer.abort();
      assert.ok(removed > 0, "the chunks it stored before it was killed were there to remove");
      const left = await readdir(join(scratch.work, "repo", "data", "b1"), { recursive: true }).catch(() => []);
      assert.deepEqual(left.filter((name) => /\d{8}$/.test(name)), [], "no chunk of the killed attempt is left");
    });
  });

  it("is killed on cancel and gone when the promise settles; its argv and environment hold no key", async () => {
    await inScratch(48 * MIB, async (scratch) => {
      const writer = await newWriter(scratch, 1 * MIB);
      const job = jobFor(scratch, writer);
      const abort = new AbortController();
      let pid = 0;
      let seen = { cmdline: "", environ: "" };
      const onChunk = (): void => {
        if (abort.signal.aborted) return;
        seen = { cmdline: execFileSync("cat", [`/proc/${pid}/cmdline`]).toString(), environ: execFileSync("cat", [`/proc/${pid}/environ`]).toString() };
        abort.abort(new Error("cancelled by the test"));
      };
      await assert.rejects(archiveInOwnProcess(job, { call: session([]), signal: abort.signal, onStart: (started) => (pid = started), onChunk }), /cancelled by the test/);
      assert.equal(processExists(pid), false, "the process is gone");
      assert.match(seen.cmdline, /backup-process\/child\.ts/);
      assert.ok(!seen.cmdline.includes(job.grant.chunkKey) && !seen.environ.includes(job.grant.chunkKey), "no key in argv or env");
      assert.equal(seen.environ.replace(/NODE_CHANNEL_(FD|SERIALIZATION_MODE)=\w+\0/g, ""), "", "an empty environment but for the IPC channel's");
      await writer.abort();
    });
  });
});
