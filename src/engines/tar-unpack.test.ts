import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { lstat, mkdir, mkdtemp, open, readdir, readFile, readlink, rm, stat, statfs, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { setImmediate } from "node:timers/promises";
import { memberPath, parseTarHeader, TAR_BLOCK, UnsafeArchiveError } from "./tar-member.ts";
import { openDirect, unpackTar } from "./tar-unpack.ts";

/** A ustar header as pg_basebackup writes one (no prefix), with a correct checksum. */
function header(name: string, type: string, size = 0, link = "", mode = 0o600): Buffer {
  const block = Buffer.alloc(TAR_BLOCK);
  block.write(name, 0, 100, "utf8");
  block.write(`${mode.toString(8).padStart(7, "0")}\0`, 100, "latin1");
  block.write("0000000\0", 108, "latin1");
  block.write("0000000\0", 116, "latin1");
  block.write(`${size.toString(8).padStart(11, "0")}\0`, 124, "latin1");
  block.write("00000000000\0", 136, "latin1");
  block.write(type, 156, "latin1");
  block.write(link, 157, 100, "utf8");
  block.write("ustar\0" + "00", 257, "latin1");
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
  return block;
}

function member(name: string, data: Buffer): Buffer {
  const padding = (TAR_BLOCK - (data.length % TAR_BLOCK)) % TAR_BLOCK;
  return Buffer.concat([header(name, "0", data.length), data, Buffer.alloc(padding)]);
}

const END = Buffer.alloc(2 * TAR_BLOCK);

/** The archive cut into pieces of `size` bytes, as the backup reader hands out chunks. */
function pieces(archive: Buffer, size: number): Readable {
  const parts: Buffer[] = [];
  for (let at = 0; at < archive.length; at += size) parts.push(archive.subarray(at, at + size));
  return Readable.from(parts, { objectMode: false });
}

/** tmpfs keeps every file in memory, O_DIRECT or not (statfs's f_type). */
const TMPFS_MAGIC = 0x01021994;

async function scratch(): Promise<string> {
  return mkdtemp(join(tmpdir(), "restore3-tar-"));
}

describe("tar member names", () => {
  it("drops ./ and trailing slashes, and refuses absolute names and ..", () => {
    assert.equal(memberPath("./base/1/"), "base/1");
    assert.equal(memberPath("./"), "");
    assert.throws(() => memberPath("/etc/passwd"), /member "\/etc\/passwd" has an absolute name/);
    assert.throws(() => memberPath("base/../../x"), /member "base\/..\/..\/x" has a ".."/);
  });

  it("refuses hard links, devices and links out of the directory, naming the member", () => {
    assert.throws(() => parseTarHeader(header("global/hard", "1", 0, "global/pg_control"), 0), /member "global\/hard" is a hard link/);
    assert.throws(() => parseTarHeader(header("dev", "3"), 0), /member "dev" has tar type "3"/);
    assert.throws(() => parseTarHeader(header("pg_tblspc/16400", "2", 0, "/srv/tablespace"), 0), /member "pg_tblspc\/16400" is a symbolic link to "\/srv\/tablespace", outside/);
    assert.throws(() => parseTarHeader(header("pg_wal", "2", 0, "../elsewhere"), 0), UnsafeArchiveError);
    const inside = parseTarHeader(header("a/link", "2", 0, "../b"), 0);
    assert.ok(inside !== "end" && inside.type === "symlink" && inside.linkTarget === "../b");
  });

  it("refuses a header whose checksum does not match", () => {
    const bad = header("PG_VERSION", "0", 3);
    bad[0] = 0x51;
    assert.throws(() => parseTarHeader(bad, 1024), /the tar header at byte 1024 fails its checksum/);
  });
});

describe("unpackTar", () => {
  it("writes a tar made by tar(1) byte for byte, whatever the piece size, with the modes kept", async () => {
    const root = await scratch();
    try {
      const source = join(root, "source");
      await mkdir(join(source, "base", "1"), { recursive: true, mode: 0o700 });
      await writeFile(join(source, "PG_VERSION"), "15\n", { mode: 0o600 });
      await writeFile(join(source, "base", "1", "1259"), randomBytes(3 * 1024 * 1024 + 7), { mode: 0o600 });
      await writeFile(join(source, "base", "1", "empty"), "", { mode: 0o600 });
      await writeFile(join(source, "postmaster.pid"), "4242\n");
      const archive = execFileSync("tar", ["--create", "--format=ustar", "--file=-", "--directory", source, "."], { maxBuffer: 64 * 1024 * 1024 });
      for (const size of [1, 4093, 64 * 1024, 1024 * 1024 + 3]) {
        const target = join(root, `target-${size}`);
        await mkdir(target, { mode: 0o700 });
        const input = size === 1 ? pieces(archive.subarray(0, 3000), 1) : pieces(archive, size);
        if (size === 1) {
          await assert.rejects(unpackTar(input, target, { excluded: new Set() }), /truncated/);
          continue;
        }
        const summary = await unpackTar(input, target, { excluded: new Set(["postmaster.pid"]), maxBytesInFlight: 64 * 1024 });
        assert.equal(summary.files, 3);
        assert.deepEqual(await readFile(join(target, "base", "1", "1259")), await readFile(join(source, "base", "1", "1259")));
        assert.equal(await readFile(join(target, "PG_VERSION"), "utf8"), "15\n");
        assert.equal((await stat(join(target, "base", "1", "empty"))).size, 0);
        assert.equal((await stat(join(target, "base", "1", "1259"))).mode & 0o777, 0o600);
        assert.equal((await stat(join(target, "base"))).mode & 0o777, 0o700);
        assert.deepEqual((await readdir(target)).sort(), ["PG_VERSION", "base"]);
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it("writes large files of whole 4 KiB pages around the page cache (O_DIRECT), byte for byte whatever the piece size, on tmpfs too", async () => {
    const root = await scratch();
    // /dev/shm is tmpfs, which refuses O_DIRECT: the same unpack there is buffered.
    const shm = await stat("/dev/shm").then(() => mkdtemp("/dev/shm/restore3-tar-"), () => undefined);
    try {
      const source = join(root, "source");
      await mkdir(join(source, "base", "1"), { recursive: true, mode: 0o700 });
      const files: Record<string, Buffer> = {
        "base/1/16384": randomBytes(3 * 1024 * 1024 + 5 * 8192), // O_DIRECT: four slabs, the last one part-filled
        "base/1/16384_fsm": randomBytes(8192 * 3), // too small for O_DIRECT
        "base/1/odd": randomBytes(100_000 + 3), // not whole pages
      };
      for (const [name, data] of Object.entries(files)) await writeFile(join(source, name), data, { mode: 0o600 });
      const archive = execFileSync("tar", ["--create", "--format=ustar", "--file=-", "--directory", source, "."], { maxBuffer: 64 * 1024 * 1024 });
      const unpackInto = async (place: string, name: string, size: number): Promise<string> => {
        const target = join(place, name);
        await mkdir(target, { mode: 0o700 });
        assert.equal((await unpackTar(pieces(archive, size), target, { excluded: new Set(), maxBytesInFlight: 256 * 1024 })).files, 3);
        return target;
      };
      // Where the temporary directory is itself on tmpfs, every file is in memory: only the bytes are checked.
      const direct = (await statfs(root)).type !== TMPFS_MAGIC;
      for (const size of [4093, 64 * 1024, 1024 * 1024 + 3]) {
        // Not read back first: what of each file is in the page cache after the unpack alone.
        const target = await unpackInto(root, `target-${size}`, size);
        const cached = (name: string): number => Number(execFileSync("fincore", ["--bytes", "--noheadings", "--output", "RES", join(target, name)], { encoding: "utf8" }).trim());
        if (direct) assert.equal(cached("base/1/16384"), 0, "nothing of the large file went through the page cache");
        assert.ok(cached("base/1/odd") > 0, "the file that is not whole pages did");
        const places = shm === undefined ? [target] : [target, await unpackInto(shm, `target-${size}`, size)];
        for (const place of places) {
          for (const [name, data] of Object.entries(files)) assert.deepEqual(await readFile(join(place, name)), data, `${name} in ${place}`);
        }
      }
    } finally {
      await rm(root, { recursive: true, force: true });
      if (shm !== undefined) await rm(shm, { recursive: true, force: true });
    }
  });

  it("opens without O_DIRECT where the filesystem refuses it (EINVAL), and passes any other error on", async () => {
    const root = await scratch();
    try {
      const seen: boolean[] = [];
      const refusing = (async (path: string, flags: number, mode: number) => {
        seen.push((flags & constants.O_DIRECT) !== 0);
        if ((flags & constants.O_DIRECT) !== 0) throw Object.assign(new Error("EINVAL: invalid argument, open"), { code: "EINVAL" });
        return open(path, flags, mode);
      }) as typeof open;
      const handle = await openDirect(join(root, "file"), 0o600, refusing);
      await handle.write(Buffer.from("whole"), 0, 5, 0);
      await handle.close();
      assert.deepEqual(seen, [true, false], "tried with O_DIRECT, then without");
      assert.equal(await readFile(join(root, "file"), "utf8"), "whole");
      await assert.rejects(openDirect(join(root, "file"), 0o600), /EEXIST/, "an existing file is never opened");
      const failing = (() => Promise.reject(Object.assign(new Error("EACCES: permission denied"), { code: "EACCES" }))) as typeof open;
      await assert.rejects(openDirect(join(root, "other"), 0o600, failing), /EACCES/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it("refuses a member written through a symbolic link of the same archive, naming it", async () => {
    const root = await scratch();
    try {
      const target = join(root, "target");
      await mkdir(target);
      const archive = Buffer.concat([header("pg_wal", "2", 0, "."), member("pg_wal/escape", Buffer.from("x")), END]);
      await assert.rejects(unpackTar(pieces(archive, 4096), target, { excluded: new Set() }), /member "pg_wal\/escape" would be written through the symbolic link "pg_wal"/);
      assert.equal(await readlink(join(target, "pg_wal")), ".");
      await assert.rejects(lstat(join(target, "escape")));
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it("refuses names that climb out and duplicate members, and writes nothing outside", async () => {
    const root = await scratch();
    try {
      const target = join(root, "target");
      await mkdir(target);
      const climbing = Buffer.concat([member("base/../../outside", Buffer.from("x")), END]);
      await assert.rejects(unpackTar(pieces(climbing, 4096), target, { excluded: new Set() }), /member "base\/..\/..\/outside" has a "\.\."/);
      await assert.rejects(lstat(join(root, "outside")));
      const twice = Buffer.concat([member("PG_VERSION", Buffer.from("15\n")), member("PG_VERSION", Buffer.from("16\n")), END]);
      await assert.rejects(unpackTar(pieces(twice, 4096), join(root, "target"), { excluded: new Set() }), /member "PG_VERSION" appears twice/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it("never writes over a file that is already there (nor through a link planted in its place)", async () => {
    const root = await scratch();
    try {
      await writeFile(join(root, "outside"), "kept");
      await writeFile(join(root, "PG_VERSION"), "old");
      await symlink(join(root, "outside"), join(root, "postgresql.auto.conf"));
      for (const name of ["PG_VERSION", "postgresql.auto.conf"]) {
        const archive = Buffer.concat([member(name, Buffer.from("new contents")), END]);
        // One block per piece: the header arrives before its data, as across chunk boundaries.
        await assert.rejects(unpackTar(pieces(archive, TAR_BLOCK), root, { excluded: new Set() }), /EEXIST/);
      }
      assert.equal(await readFile(join(root, "PG_VERSION"), "utf8"), "old");
      assert.equal(await readFile(join(root, "outside"), "utf8"), "kept");
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it("stops when its input fails, with the input's error", async () => {
    const root = await scratch();
    try {
      async function* failing(): AsyncGenerator<Buffer> {
        yield header("big", "0", 10 * TAR_BLOCK);
        yield Buffer.alloc(TAR_BLOCK);
        await setImmediate();
        throw new Error("chunk 3 of base.tar is damaged");
      }
      await assert.rejects(unpackTar(failing(), root, { excluded: new Set() }), /chunk 3 of base.tar is damaged/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it("hands each piece back once its writes are done, and detaching it then leaves the files whole", async () => {
    const root = await scratch();
    try {
      const data = randomBytes(3 * 65536 + 100);
      const archive = Buffer.concat([member("a", data), member("b", Buffer.from("small")), END]);
      const sent: Buffer[] = [];
      for (let at = 0; at < archive.length; at += 65536) {
        // Each piece in an ArrayBuffer of its own, as the restore process's decoded chunks are.
        const own = new ArrayBuffer(Math.min(65536, archive.length - at));
        archive.copy(Buffer.from(own), 0, at, at + own.byteLength);
        sent.push(Buffer.from(own));
      }
      const released: Buffer[] = [];
      await unpackTar(Readable.from(sent, { objectMode: false }), root, { excluded: new Set(), onWritten: (piece) => {
        released.push(piece);
        (piece.buffer as ArrayBuffer).transfer(0);
      } });
      assert.equal(released.length, sent.length, "every piece handed back once");
      assert.ok(released.every((piece) => piece.byteLength === 0), "each detached");
      assert.deepEqual(await readFile(join(root, "a")), data);
      assert.equal((await readFile(join(root, "b"))).toString(), "small");
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
