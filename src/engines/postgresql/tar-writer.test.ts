import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { tarEnd, tarFileWithContent, tarHeader, tarPadding } from "./tar-writer.ts";

test("GNU tar lists and extracts what the writer writes: files, directories, links, long names", () => {
  const long = `base/${"d".repeat(90)}/${"f".repeat(60)}`;
  const data = Buffer.from("hello, tar\n");
  const archive = Buffer.concat([
    tarHeader({ name: "base/", type: "directory", size: 0, mode: 0o700, uid: 0, gid: 0, mtime: 1_700_000_000 }),
    tarHeader({ name: "base/1", type: "file", size: data.length, mode: 0o600, uid: 0, gid: 0, mtime: 1_700_000_000 }),
    data,
    tarPadding(data.length),
    tarFileWithContent(long, Buffer.from("x"), 1_700_000_000),
    tarHeader({ name: "link", type: "symlink", size: 0, mode: 0o777, uid: 0, gid: 0, mtime: 1_700_000_000, linkTarget: "base/1" }),
    tarFileWithContent("empty", Buffer.alloc(0), 1_700_000_000),
    tarEnd(),
  ]);
  assert.equal(archive.length % 512, 0);
  const listed = execFileSync("tar", ["-tvf", "-"], { input: archive }).toString().trim().split("\n");
  assert.deepEqual(listed.map((line) => line.split(/\s+/).slice(5).join(" ")), ["base/", "base/1", long, "link -> base/1", "empty"]);
  assert.match(listed[1] ?? "", /^-rw------- .* 11 /);
  assert.equal(execFileSync("tar", ["-xOf", "-", "base/1"], { input: archive }).toString(), "hello, tar\n");
});

test("a name that no prefix split can hold is refused", () => {
  assert.throws(() => tarHeader({ name: "x".repeat(101), type: "file", size: 0, mode: 0o600, uid: 0, gid: 0, mtime: 0 }), /too long/);
});
