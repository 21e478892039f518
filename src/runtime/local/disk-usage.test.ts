import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { link, mkdir, mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { diskUsage, freeDiskBytes } from "./disk-usage.ts";

const MI = 2 ** 20;
const root = await mkdtemp(join(tmpdir(), "storage-disk-usage-"));

after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("diskUsage", () => {
  it("sums the blocks of every file below, counts a hard-linked file once, and a sparse file by its blocks", async () => {
    const dir = join(root, "a");
    await mkdir(join(dir, "nested", "deeper"), { recursive: true });
    const empty = await diskUsage(dir);
    await writeFile(join(dir, "one"), randomBytes(MI));
    await writeFile(join(dir, "nested", "deeper", "two"), randomBytes(2 * MI));
    const withFiles = await diskUsage(dir);
    assert.ok(withFiles - empty >= 3 * MI && withFiles - empty < 3 * MI + 256 * 1024, `3 MiB of files measured as ${withFiles - empty}`);
    await link(join(dir, "one"), join(dir, "nested", "one-again"));
    assert.equal(await diskUsage(dir), withFiles);
    const sparse = await open(join(dir, "sparse"), "w");
    await sparse.truncate(64 * MI);
    await sparse.close();
    assert.ok((await diskUsage(dir)) - withFiles < MI, "a 64 MiB sparse file takes (almost) no blocks");
  });

  it("is 0 for a directory that does not exist", async () => {
    assert.equal(await diskUsage(join(root, "missing")), 0);
  });

  it("reports the free bytes of the filesystem", async () => {
    assert.ok((await freeDiskBytes(root)) > 0);
  });
});
