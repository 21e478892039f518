import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { InvalidError } from "../../errors/index.ts";
import { isStrictlyInside, pathsBetween, removeInstanceDirectory } from "./directories.ts";

void test("isStrictlyInside", () => {
  assert.equal(isStrictlyInside("/a/b/c", "/a/b"), true);
  assert.equal(isStrictlyInside("/a/b", "/a/b"), false);
  assert.equal(isStrictlyInside("/a/b/", "/a/b"), false);
  assert.equal(isStrictlyInside("/a/b/../c", "/a/b"), false);
  assert.equal(isStrictlyInside("/a/bc", "/a/b"), false);
  assert.equal(isStrictlyInside("/", "/a"), false);
  assert.equal(isStrictlyInside("/a/b/..x", "/a/b"), true);
});

void test("pathsBetween lists the chain outermost first and refuses paths outside", () => {
  assert.deepEqual(pathsBetween("/r", "/r/a/b"), ["/r", "/r/a", "/r/a/b"]);
  assert.deepEqual(pathsBetween("/r", "/r"), ["/r"]);
  assert.throws(() => pathsBetween("/r", "/etc"), InvalidError);
});

void test("removeInstanceDirectory removes inside the root and refuses anything else", async () => {
  const root = await mkdtemp(join(tmpdir(), "holdfast-dirs-"));
  try {
    const instance = join(root, "default", "pg-0");
    await mkdir(join(instance, "data"), { recursive: true });
    await writeFile(join(instance, "data", "f"), "x");
    for (const bad of [root, join(root, ".."), "/", join(root, "default", "..", ".."), "relative/path"]) {
      await assert.rejects(removeInstanceDirectory(bad, root), InvalidError, bad);
    }
    await assert.rejects(removeInstanceDirectory(instance, "relative"), InvalidError);
    assert.ok((await stat(instance)).isDirectory(), "a refused call removed nothing");
    await removeInstanceDirectory(instance, root);
    await assert.rejects(stat(instance), { code: "ENOENT" });
    await removeInstanceDirectory(instance, root); // idempotent
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
