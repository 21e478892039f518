import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { userInfo } from "node:os";
import { test } from "node:test";
import { promisify } from "node:util";
import { ensureServiceUser } from "../../src/runtime/index.ts";

const run = promisify(execFile);
const root = process.getuid?.() === 0;

void test("ensureServiceUser creates a system user once, even when callers race", { skip: !root && "needs root" }, async () => {
  const name = `hf-test-${randomBytes(3).toString("hex")}`;
  try {
    const results = await Promise.all([ensureServiceUser(name), ensureServiceUser(name), ensureServiceUser(name)]);
    const { stdout: uid } = await run("id", ["-u", name]);
    const { stdout: gid } = await run("id", ["-g", name]);
    for (const user of results) assert.deepEqual(user, { name, uid: Number(uid), gid: Number(gid) });
    assert.ok(results[0].uid < 1000, "a system user has a system uid");
    const { stdout: passwd } = await run("getent", ["passwd", name]);
    assert.match(passwd, /:\/nonexistent:\/usr\/sbin\/nologin$/m);
    assert.deepEqual(await ensureServiceUser(name), results[0]);
  } finally {
    await run("userdel", [name]).catch(() => undefined);
  }
});

void test("the default service user is holdfast as root, else the current user", async () => {
  const user = await ensureServiceUser();
  assert.equal(user.name, root ? "holdfast" : userInfo().username);
  assert.notEqual(user.uid, 0);
});
