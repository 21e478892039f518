import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { tailFile } from "./tail-file.ts";

void test("tailFile returns whole small files, whole last lines of big ones, and nothing for a missing file", async () => {
  const dir = await mkdtemp(join(tmpdir(), "holdfast-tail-"));
  try {
    const path = join(dir, "log");
    await writeFile(path, "first\nsecond\nthird\n");
    assert.equal(await tailFile(path, 1000), "first\nsecond\nthird\n");
    assert.equal(await tailFile(path, 10), "third\n");
    assert.equal(await tailFile(path, 0), "");
    assert.equal(await tailFile(join(dir, "missing"), 100), "");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
