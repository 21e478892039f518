import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { BackupIntegrityError, BackupWriter, LocalRepository, openBackup, type ReadGrant } from "../backup/index.ts";
import { InternalError, InvalidError, UnavailableError } from "../errors/index.ts";
import { loadOrCreateKeyring } from "../security/index.ts";
import { processExists } from "../util/index.ts";
import { spareProcessIds, stopSpareProcesses } from "../child-process/index.ts";
import { keepRestoreProcessReady, unpackInProcess, type UnpackJob } from "./index.ts";
import { failureError, parseChildMessage, reportFailure } from "./protocol.ts";

const MIB = 1024 * 1024;

/** A backup with one stream, `base.tar` = `tar` of the directory `source`, in a new local repository. */
async function backupOf(work: string, tar: Buffer, chunkSize = 256 * 1024): Promise<{ grant: ReadGrant; repository: string }> {
  const repository = join(work, "repo");
  const keyring = await loadOrCreateKeyring(join(work, "keyring.json"));
  const repo = await LocalRepository.open(repository);
  const writer = await BackupWriter.create({ repository: repo, keyring, backupId: "b1", metadata: {}, chunkSize });
  await writer.writeStream("base.tar", Readable.from([tar]));
  const summary = await writer.commit();
  const reader = await openBackup({ repository: repo, keyring, backupId: "b1", expectedManifestSha256: summary.manifestSha256 });
  return { grant: reader.grant(), repository };
}

/** tar(1) of a directory holding `files` (name → bytes). */
async function tarOf(work: string, files: Record<string, Buffer>): Promise<Buffer> {
  const source = join(work, "source");
  await mkdir(join(source, "base"), { recursive: true });
  for (const [name, data] of Object.entries(files)) await writeFile(join(source, name), data);
  return execFileSync("tar", ["-c", "-f", "-", "--format=ustar", "-C", source, "."], { maxBuffer: 512 * MIB });
}

function jobFor(backup: { grant: ReadGrant; repository: string }, directory: string): UnpackJob {
  return { repository: { provider: "local", path: backup.repository }, grant: backup.grant, stream: "base.tar", directory, excluded: ["postmaster.pid"] };
}

/** Run `body` in a new scratch directory, removed afterwards. */
async function inScratch(body: (work: string) => Promise<void>): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), "restore-proc-unit-"));
  try {
    await body(work);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** A backup of 48 MiB in 1 MiB chunks, and an empty directory to restore it into: long enough to stop half-way. */
async function largeRestore(work: string): Promise<{ backup: { grant: ReadGrant; repository: string }; target: string }> {
  const backup = await backupOf(work, await tarOf(work, { "base/big": randomBytes(48 * MIB) }), 1 * MIB);
  const target = join(work, "data");
  await mkdir(target);
  return { backup, target };
}


/** The first value `probe` gives within `ms`, or a failure. */
async function within<T>(ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((resolve) => setTimeout(resolve, 50))) {
    const value = await probe();
    if (value !== undefined) return value;
  }
  throw new Error(`nothing within ${ms} ms`);
}

describe("the restore process's messages", () => {
  it("carry an integrity error with its chunk, so the restore still names it", () => {
    const original = new BackupIntegrityError("authentication", { backupId: "b1", objectKey: "data/b1/x", stream: "base.tar", chunkIndex: 3 }, "the tag does not match");
    const back = failureError(JSON.parse(JSON.stringify(reportFailure(original))) as ReturnType<typeof reportFailure>);
    assert.ok(back instanceof BackupIntegrityError);
    assert.equal(back.message, original.message);
    assert.equal(back.problem, "authentication");
    assert.deepEqual(back.location, original.location);
  });

  it("carry a refused member as an InvalidError with its message, a system error as Unavailable, anything else as Internal", () => {
    const refused = failureError(reportFailure(new InvalidError('member "../x" has a ".." component')));
    assert.ok(refused instanceof InvalidError);
    assert.equal(refused.message, 'member "../x" has a ".." component');
    const full = Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
    assert.ok(failureError(reportFailure(full)) instanceof UnavailableError);
    assert.ok(failureError(reportFailure("odd")) instanceof InternalError);
  });

  it("refuse what is not of the protocol", () => {
    assert.deepEqual(parseChildMessage({ type: "progress", bytes: 5 }), { type: "progress", bytes: 5 });
    assert.equal(parseChildMessage({ type: "progress", bytes: -1 }), undefined);
    assert.equal(parseChildMessage({ type: "done", files: 1 }), undefined);
    assert.equal(parseChildMessage("done"), undefined);
  });
});

describe("a restore in its own process", () => {
  it("unpacks the backup's tar, reports every byte read and its peak memory, and leaves out the excluded names", async () => {
    await inScratch(async (work) => {
      const files = { "base/big": randomBytes(3 * MIB), "base/small": Buffer.from("hello"), "postmaster.pid": Buffer.from("42") };
      const tar = await tarOf(work, files);
      const backup = await backupOf(work, tar);
      const target = join(work, "data");
      await mkdir(target);
      let bytes = 0;
      const result = await unpackInProcess(jobFor(backup, target), { onBytes: (n) => (bytes += n) });
      assert.equal(bytes, tar.length, "every plaintext byte was reported");
      assert.deepEqual(await readFile(join(target, "base/big")), files["base/big"]);
      assert.equal((await readFile(join(target, "base/small"))).toString(), "hello");
      await assert.rejects(stat(join(target, "postmaster.pid")), /ENOENT/);
      assert.equal(result.files, 2);
      assert.ok(result.peakBytes > 20 * MIB && result.peakBytes < 512 * MIB, `peak ${result.peakBytes}`);
    });
  });

  it("with the node agent's compile cache: filled by the process kept waiting (0700), then restores whole from it", async () => {
    await inScratch(async (work) => {
      const files = { "base/big": randomBytes(2 * MIB), "base/small": Buffer.from("hello") };
      const backup = await backupOf(work, await tarOf(work, files));
      const compileCache = join(work, "cache", "modules");
      assert.equal(keepRestoreProcessReady(join(work, "source", "base", "small", "cache")), false, "a cache that cannot be made (under a file): false, no throw");
      assert.deepEqual(spareProcessIds(), [], "and nothing kept waiting");
      assert.equal(keepRestoreProcessReady(compileCache), true);
      await within(20_000, async () => ((await readdir(compileCache, { recursive: true }).catch(() => [])).some((name) => name.includes("/")) ? true : undefined));
      assert.equal((await stat(compileCache)).mode & 0o777, 0o700);
      stopSpareProcesses();
      for (const round of [1, 2]) {
        const target = join(work, `data-${round}`);
        await mkdir(target);
        const result = await unpackInProcess({ ...jobFor(backup, target), compileCache });
        assert.equal(result.files, 2);
        assert.deepEqual(await readFile(join(target, "base/big")), files["base/big"]);
        assert.equal((await stat(compileCache)).mode & 0o777, 0o700);
        const cached = await readdir(compileCache, { recursive: true });
        assert.ok(cached.some((name) => name.includes("/")), `compiled modules written after round ${round}: ${cached.join(", ")}`);
      }
    });
  });

  it("kept ready: a restore takes the process started ahead of it, another is started after it, and stopping ends it", async () => {
    await inScratch(async (work) => {
      const files = { "base/big": randomBytes(2 * MIB), "base/small": Buffer.from("hello") };
      const backup = await backupOf(work, await tarOf(work, files));
      const compileCache = join(work, "cache");
      keepRestoreProcessReady(compileCache, { replaceAfterMs: 100 });
      try {
        const spare = await within(20_000, () => Promise.resolve(spareProcessIds()[0]));
        const target = join(work, "data");
        await mkdir(target);
        let pid = 0;
        const result = await unpackInProcess({ ...jobFor(backup, target), compileCache }, { onStart: (started) => (pid = started) });
        assert.equal(pid, spare, "the job went to the process started ahead of it");
        assert.equal(result.files, 2);
        assert.deepEqual(await readFile(join(target, "base/big")), files["base/big"]);
        const next = await within(20_000, () => Promise.resolve(spareProcessIds().find((found) => found !== spare)));
        assert.equal(processExists(spare), false, "the process that ran the job has exited");
        stopSpareProcesses();
        await within(10_000, () => Promise.resolve(processExists(next) ? undefined : true));
      } finally {
        stopSpareProcesses();
      }
    });
  });

  it("kept ready: a process taken is not replaced while another job still runs, only after the last one ends", async () => {
    await inScratch(async (work) => {
      const files = { "base/big": randomBytes(2 * MIB), "base/small": Buffer.from("hello") };
      const backup = await backupOf(work, await tarOf(work, files));
      // Job B's first chunk is a FIFO nobody writes to: its process waits on it until B is cancelled.
      const held = { ...backup, repository: join(work, "held-repo") };
      execFileSync("cp", ["-a", backup.repository, held.repository]);
      const first = backup.grant.streams[0]?.chunks[0];
      assert.ok(first !== undefined);
      const fifo = join(held.repository, ...first.key.split("/"));
      await rm(fifo);
      execFileSync("mkfifo", ["-m", "0600", fifo]);
      const compileCache = join(work, "cache");
      keepRestoreProcessReady(compileCache, { replaceAfterMs: 100 });
      const cancel = new AbortController();
      try {
        await within(20_000, () => Promise.resolve(spareProcessIds()[0]));
        await mkdir(join(work, "held"));
        const running = unpackInProcess({ ...jobFor(held, join(work, "held")), compileCache }, { signal: cancel.signal });
        running.catch(() => undefined); // awaited below
        await mkdir(join(work, "data"));
        assert.equal((await unpackInProcess({ ...jobFor(backup, join(work, "data")), compileCache })).files, 2);
        await new Promise((resolve) => setTimeout(resolve, 800));
        assert.deepEqual(spareProcessIds(), [], "no replacement while job B still runs");
        cancel.abort(new Error("cancelled by the test"));
        await assert.rejects(running, /cancelled by the test/);
        await within(20_000, () => Promise.resolve(spareProcessIds()[0]));
      } finally {
        cancel.abort();
        stopSpareProcesses();
      }
    });
  });

  it("kept waiting past its idle time, it ends and is not replaced until asked for again", async () => {
    await inScratch(async (work) => {
      keepRestoreProcessReady(join(work, "cache"), { idleMs: 1500 });
      try {
        const spare = await within(20_000, () => Promise.resolve(spareProcessIds()[0]));
        await within(20_000, () => Promise.resolve(processExists(spare) ? undefined : true));
        await new Promise((resolve) => setTimeout(resolve, 500));
        assert.deepEqual(spareProcessIds(), [], "none started again");
      } finally {
        stopSpareProcesses();
      }
    });
  });

  for (const processMax of [0, 1]) it(`fails with the integrity error naming the damaged chunk (decoding on ${processMax === 0 ? "its main thread" : "a worker thread"})`, async () => {
    await inScratch(async (work) => {
      const backup = await backupOf(work, await tarOf(work, { "base/big": randomBytes(2 * MIB) }));
      const chunk = backup.grant.streams[0]?.chunks[2];
      assert.ok(chunk !== undefined);
      const path = join(backup.repository, ...chunk.key.split("/"));
      const stored = await readFile(path);
      stored[100] = (stored[100] ?? 0) ^ 1;
      await writeFile(path, stored);
      const target = join(work, "data");
      await mkdir(target);
      await assert.rejects(unpackInProcess({ ...jobFor(backup, target), processMax }), (error: unknown) => error instanceof BackupIntegrityError && error.location.chunkIndex === 2 && /chunk 2/.test(error.message));
    });
  });

  it("fails with an InvalidError naming a member that would land outside the directory", async () => {
    await inScratch(async (work) => {
      await tarOf(work, { "base/a": Buffer.from("a") });
      // tar(1) itself names the member "../escape" (-P keeps the name as transformed).
      const evil = execFileSync("tar", ["-c", "-f", "-", "--format=ustar", "-P", "--transform=s,^base/a$,../escape,", "-C", join(work, "source"), "base/a"]);
      const backup = await backupOf(work, evil);
      const target = join(work, "data");
      await mkdir(target);
      await assert.rejects(unpackInProcess(jobFor(backup, target)), (error: unknown) => error instanceof InvalidError && /member "..\/escape"/.test(error.message));
      assert.deepEqual(await readdir(work).then((names) => names.includes("escape")), false);
    });
  });

  it("is killed on cancel and gone when the promise settles; its argv and environment hold no key", async () => {
    await inScratch(async (work) => {
      const { backup, target } = await largeRestore(work);
      const abort = new AbortController();
      let pid = 0;
      let seen = { cmdline: "", environ: "" };
      const running = unpackInProcess(jobFor(backup, target), {
        signal: abort.signal,
        onStart: (started) => (pid = started),
        onBytes: () => {
          if (abort.signal.aborted) return;
          seen = { cmdline: execFileSync("cat", [`/proc/${pid}/cmdline`]).toString(), environ: execFileSync("cat", [`/proc/${pid}/environ`]).toString() };
          abort.abort(new Error("cancelled by the test"));
        },
      });
      await assert.rejects(running, /cancelled by the test/);
      assert.equal(processExists(pid), false, "the process is gone");
      assert.match(seen.cmdline, /child\.ts/);
      assert.ok(!seen.cmdline.includes(backup.grant.chunkKey) && !seen.environ.includes(backup.grant.chunkKey), "no key in argv or env");
      assert.equal(seen.environ.replace(/NODE_CHANNEL_(FD|SERIALIZATION_MODE)=\w+\0/g, ""), "", "an empty environment but for the IPC channel's");
    });
  });

  it("killed with SIGKILL half-way is a failed attempt, never a finished one", async () => {
    await inScratch(async (work) => {
      const { backup, target } = await largeRestore(work);
      let pid = 0;
      const running = unpackInProcess(jobFor(backup, target), { onStart: (started) => (pid = started), onBytes: () => processExists(pid) && process.kill(pid, "SIGKILL") });
      await assert.rejects(running, (error: unknown) => error instanceof UnavailableError && /ended on SIGKILL before the data was whole/.test(error.message));
    });
  });
});
