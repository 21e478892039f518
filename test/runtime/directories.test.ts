import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { lstat, mkdir, readFile, readlink, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { InvalidError } from "../../src/errors/index.ts";
import { CommandFailedError, createHostAccess, createInstanceDirectories, ensureServiceUser, ensureTraversable, type ServiceUser } from "../../src/runtime/index.ts";
import { removeDirectory, temporaryDirectory } from "./helpers.ts";

const root = process.getuid?.() === 0;
let user: ServiceUser;
let home: string;

before(async () => {
  user = await ensureServiceUser();
  home = await temporaryDirectory("dirs");
});
after(() => removeDirectory(home));

void test("ensureTraversable lets only the service user through a 0700 directory, by ACL", { skip: !root && "needs root" }, async () => {
  const host = createHostAccess(user);
  const nested = join(home, "private");
  await mkdir(nested, { mode: 0o700 });
  const file = join(nested, "file");
  await writeFile(file, "x");
  await assert.rejects(host.run({ command: "test", args: ["-e", file] }), CommandFailedError);

  assert.deepEqual(await ensureTraversable(file, user), [home, nested]);
  await host.run({ command: "test", args: ["-e", file] });
  for (const directory of [home, nested]) {
    assert.equal((await stat(directory)).mode & 0o007, 0, "nothing opened to others");
    const { stdout } = await promisify(execFile)("getfacl", ["-p", directory]);
    assert.match(stdout, new RegExp(`^user:${user.name}:--x$`, "m"));
    assert.match(stdout, /^other::---$/m);
  }
  assert.deepEqual(await ensureTraversable(file, user), [], "second call changes nothing");
});

void test("createInstanceDirectories makes root, data and run owned by the service user, mode 0700", async () => {
  const rootDirectory = join(home, "instances", "default", "pg-0");
  const paths = { rootDirectory, dataDirectory: join(rootDirectory, "data", "pgdata"), runDirectory: join(rootDirectory, "run") };
  await createInstanceDirectories(paths, user);
  await createInstanceDirectories(paths, user); // idempotent
  for (const directory of [rootDirectory, join(rootDirectory, "data"), paths.dataDirectory, paths.runDirectory]) {
    const info = await stat(directory);
    assert.equal(info.mode & 0o777, 0o700, directory);
    assert.equal(info.uid, user.uid, directory);
    assert.equal(info.gid, user.gid, directory);
  }
  await assert.rejects(createInstanceDirectories({ ...paths, dataDirectory: join(home, "elsewhere") }, user), InvalidError);
});

void test("HostAccess runs as the service user and writes files it owns, atomically and without following symlinks", async () => {
  const host = createHostAccess(user);
  const { stdout } = await host.run({ command: "id", args: ["-u"] });
  assert.equal(Number(stdout), user.uid);

  const directory = join(home, "host", "a", "b");
  await host.mkdir(directory);
  for (const path of [join(home, "host"), join(home, "host", "a"), directory]) assert.equal((await stat(path)).uid, user.uid);

  const file = join(directory, "postgresql.conf");
  await host.writeFile(file, "port = 1\n");
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  await host.writeFile(file, "port = 2\n", 0o640);
  const info = await stat(file);
  assert.equal(info.mode & 0o777, 0o640);
  assert.equal(info.uid, user.uid);
  assert.equal(await readFile(file, "utf8"), "port = 2\n");

  const victim = join(home, "victim");
  await writeFile(victim, "untouched");
  const planted = join(directory, "planted");
  await symlink(victim, planted);
  await host.writeFile(planted, "overwrite");
  assert.equal(await readFile(victim, "utf8"), "untouched");
  assert.ok((await lstat(planted)).isFile());
  await assert.rejects(readlink(planted));
});
