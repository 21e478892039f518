/** The per-cluster OS users: created once when callers race, given their way to the instances, removed cleanly. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { OsUsers, removeServiceUser } from "../../src/runtime/index.ts";

const run = promisify(execFile);
const root = process.getuid?.() === 0;

async function exists(name: string): Promise<boolean> {
  return run("getent", ["passwd", name]).then(
    () => true,
    () => false,
  );
}

void test("OsUsers creates a user once, lets it reach the instances through a private directory, and removes it", { skip: !root && "needs root" }, async () => {
  const top = await mkdtemp(join(tmpdir(), "hf-os-users-"));
  const home = join(top, "home");
  const instances = join(home, "instances");
  const scratch = join(home, "run", "backup");
  await mkdir(instances, { recursive: true, mode: 0o700 });
  await run("chmod", ["0700", home]);
  const name = `hf-test-${randomBytes(3).toString("hex")}`;
  const users = new OsUsers({ reach: [instances], perUserRoots: [scratch] });
  try {
    const [a, b] = await Promise.all([users.user(name), users.user(name)]);
    assert.deepEqual(a, b);
    const acl = (await run("getfacl", ["--omit-header", "--numeric", home])).stdout;
    assert.ok(acl.split("\n").includes(`user:${a.uid}:--x`), `search permission on the private home, by ACL, for this user only: ${acl}`);
    await mkdir(join(scratch, name), { recursive: true });
    await users.remove(name);
    assert.equal(await exists(name), false);
    const after = (await run("getfacl", ["--omit-header", "--numeric", home])).stdout;
    assert.ok(!after.split("\n").some((line) => line.startsWith(`user:${a.uid}:`)), `the grant is taken back: ${after}`);
    await assert.rejects(stat(join(scratch, name)), /ENOENT/);
    await users.remove(name);
  } finally {
    await removeServiceUser(name).catch(() => undefined);
    await rm(top, { recursive: true, force: true });
  }
});

void test("the shared user of older homes is never removed", { skip: !root && "needs root" }, async () => {
  const users = new OsUsers({ reach: [] });
  await users.user("holdfast");
  await users.remove("holdfast");
  assert.equal(await exists("holdfast"), true);
});

void test("removing a user that still runs a process fails (and is retried later); it is removed once the process is gone", { skip: !root && "needs root" }, async () => {
  const name = `hf-test-${randomBytes(3).toString("hex")}`;
  const users = new OsUsers({ reach: [] });
  const user = await users.user(name);
  const { spawn } = await import("node:child_process");
  const child = spawn("sleep", ["30"], { uid: user.uid, gid: user.gid, stdio: "ignore" });
  try {
    await assert.rejects(users.remove(name), /still has running processes/);
    assert.equal(await exists(name), true);
  } finally {
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("exit", resolve));
  }
  await users.remove(name);
  assert.equal(await exists(name), false);
});
