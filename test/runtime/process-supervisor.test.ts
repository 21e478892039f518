import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, afterEach, before, test } from "node:test";
import { UnavailableError } from "../../src/errors/index.ts";
import {
  createInstanceDirectories,
  ensureServiceUser,
  ensureTraversable,
  findAdoptableProcess,
  isSameProcess,
  ProcessSupervisor,
  type ServiceUser,
  spawnDetached,
  tailFile,
} from "../../src/runtime/index.ts";
import { eventually, Reaper, removeDirectory, temporaryDirectory } from "./helpers.ts";

const root = process.getuid?.() === 0;
const reaper = new Reaper();
let user: ServiceUser;
let home: string;

before(async () => {
  user = await ensureServiceUser();
  home = await temporaryDirectory("proc");
});
afterEach(() => reaper.killAll());
after(async () => {
  reaper.killAll();
  await removeDirectory(home);
});

async function uidsOf(pid: number): Promise<number[]> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const line = status.split("\n").find((l) => l.startsWith("Uid:"))!;
  return line.slice(4).trim().split(/\s+/).map(Number);
}

async function childrenOf(pid: number): Promise<number[]> {
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, "utf8");
  return text.trim().split(/\s+/).filter(Boolean).map(Number);
}

void test("spawnDetached runs the server as the service user in its own session, logging to a root-owned file", async () => {
  const logFile = join(home, "logs", "instances", "echo.log");
  const spawned = await spawnDetached({ command: { command: "sh", args: ["-c", "echo hello-from-child; echo oops >&2; exec sleep 30"] }, user, logFile });
  reaper.track(spawned.pid);
  assert.ok(await eventually(async () => (await tailFile(logFile, 4096)).includes("oops")), "stdout and stderr reach the log");
  assert.match(await tailFile(logFile, 4096), /hello-from-child\n/);
  assert.deepEqual(await uidsOf(spawned.pid), [user.uid, user.uid, user.uid, user.uid]);
  const stat22 = await readFile(`/proc/${spawned.pid}/stat`, "utf8");
  const fields = stat22.slice(stat22.lastIndexOf(")") + 2).split(" ");
  assert.equal(fields[3], String(spawned.pid), "it leads its own session");
  const info = await stat(logFile);
  assert.equal(info.mode & 0o777, 0o640);
  assert.equal(info.uid, process.getuid!());
});

void test("a detached server survives its parent being SIGKILLed, and is re-adopted from its pid file", async () => {
  const logFile = join(home, "survivor.log");
  const fixture = join(import.meta.dirname, "fixtures", "spawn-and-hang.ts");
  const parent = spawn(process.execPath, [fixture, logFile], { stdio: ["ignore", "pipe", "inherit"] });
  reaper.track(parent.pid!);
  const [line] = (await once(createInterface({ input: parent.stdout }), "line")) as [string];
  const survivor = JSON.parse(line) as { pid: number; startTicks: string };
  reaper.track(survivor.pid);

  parent.kill("SIGKILL");
  await once(parent, "exit");
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(await isSameProcess(survivor.pid, survivor.startTicks), true, "the server outlived its parent");

  const pidFile = join(home, "sleep.pid");
  await writeFile(pidFile, `${survivor.pid}\n/some/data\n`);
  assert.deepEqual(await findAdoptableProcess(pidFile, "/usr/bin/sleep", user), survivor);
  assert.deepEqual(await findAdoptableProcess(pidFile, "/bin/sleep", user), survivor, "symlinked paths compare by realpath");
  assert.equal(await findAdoptableProcess(pidFile, "/usr/bin/redis-server", user), undefined, "another executable");
  assert.equal(await findAdoptableProcess(pidFile, "/usr/bin/sleep", { ...user, uid: user.uid + 1 }), undefined, "another uid");

  // A fresh supervisor (a restarted control plane) stops a process it did not spawn by polling /proc.
  const supervisor = new ProcessSupervisor();
  assert.deepEqual(supervisor.children(), []);
  assert.equal(await supervisor.stop(survivor.pid, survivor.startTicks, { signal: "SIGTERM", timeoutMs: 5000 }), "stopped");
  assert.equal(await findAdoptableProcess(pidFile, "/usr/bin/sleep", user), undefined, "a stopped server is not adopted");
});

void test("stale pid files are not adopted", async () => {
  const pidFile = join(home, "stale.pid");
  assert.equal(await findAdoptableProcess(join(home, "missing.pid"), "/usr/bin/sleep", user), undefined, "no file");

  const dead = spawn("sleep", ["30"], { stdio: "ignore" });
  dead.kill("SIGKILL");
  await once(dead, "exit");
  await writeFile(pidFile, `${dead.pid}\n`);
  assert.equal(await findAdoptableProcess(pidFile, "/usr/bin/sleep", user), undefined, "dead process");

  await writeFile(pidFile, `${process.pid}\n`);
  assert.equal(await findAdoptableProcess(pidFile, "/usr/bin/sleep", user), undefined, "a live process of another program");

  if (root) {
    const asRoot = spawn("sleep", ["30"], { stdio: "ignore" });
    reaper.track(asRoot.pid!);
    await writeFile(pidFile, `${asRoot.pid}\n`);
    assert.equal(await findAdoptableProcess(pidFile, "/usr/bin/sleep", user), undefined, "same program, another uid");
  }
  await writeFile(pidFile, "garbage\n");
  assert.equal(await findAdoptableProcess(pidFile, "/usr/bin/sleep", user), undefined, "garbage");
});

void test("stop with SIGTERM stops the server and reports the exit to listeners", async () => {
  const supervisor = new ProcessSupervisor();
  const exits: [number, number | null, string | null][] = [];
  supervisor.onExit((pid, code, signal) => exits.push([pid, code, signal]));
  const spawned = await supervisor.spawn({ command: { command: "sleep", args: ["30"] }, user, logFile: join(home, "stop.log") });
  reaper.track(spawned.pid);
  assert.equal(await supervisor.isRunning(spawned.pid, spawned.startTicks), true);
  assert.deepEqual(supervisor.children(), [spawned.pid]);

  assert.equal(await supervisor.stop(spawned.pid, String(Number(spawned.startTicks) + 1), { signal: "SIGTERM", timeoutMs: 1000 }), "not-running", "a different start time is another process");
  assert.equal(await supervisor.isRunning(spawned.pid, spawned.startTicks), true, "and it was not signalled");

  assert.equal(await supervisor.stop(spawned.pid, spawned.startTicks, { signal: "SIGTERM", timeoutMs: 5000 }), "stopped");
  assert.equal(await supervisor.isRunning(spawned.pid, spawned.startTicks), false);
  assert.ok(await eventually(() => exits.length === 1));
  assert.deepEqual(exits, [[spawned.pid, null, "SIGTERM"]]);
  assert.deepEqual(supervisor.children(), []);
  assert.equal(await supervisor.stop(spawned.pid, spawned.startTicks, { signal: "SIGTERM", timeoutMs: 1000 }), "not-running");
});

void test("a server that ignores SIGTERM is killed with its process group after the timeout", async () => {
  const supervisor = new ProcessSupervisor();
  const command = { command: "sh", args: ["-c", 'trap "" TERM; sleep 30; echo survived'] };
  const spawned = await supervisor.spawn({ command, user, logFile: join(home, "stubborn.log") });
  reaper.track(spawned.pid);
  assert.ok(await eventually(async () => (await childrenOf(spawned.pid)).length === 1));
  const [sleeper] = await childrenOf(spawned.pid);
  const sleeperTicks = (await readFile(`/proc/${sleeper}/stat`, "utf8")).split(") ")[1]!.split(" ")[19]!;

  const started = Date.now();
  assert.equal(await supervisor.stop(spawned.pid, spawned.startTicks, { signal: "SIGTERM", timeoutMs: 300 }), "killed");
  assert.ok(Date.now() - started >= 300, "it waited for the graceful timeout first");
  assert.equal(await supervisor.isRunning(spawned.pid, spawned.startTicks), false);
  assert.ok(await eventually(async () => !(await supervisor.isRunning(sleeper!, sleeperTicks))), "the whole group was killed");
});

void test("a server that dies at once still returns, and its exit is reported", async () => {
  const supervisor = new ProcessSupervisor();
  const exits: [number, number | null, string | null][] = [];
  supervisor.onExit((pid, code, signal) => exits.push([pid, code, signal]));
  const spawned = await supervisor.spawn({ command: { command: "false", args: [] }, user, logFile: join(home, "false.log") });
  assert.match(spawned.startTicks, /^\d+$/);
  assert.ok(await eventually(() => exits.length === 1));
  assert.deepEqual(exits, [[spawned.pid, 1, null]]);
  assert.equal(await supervisor.isRunning(spawned.pid, spawned.startTicks), false);
});

void test("a missing server binary is a clear error", async () => {
  await assert.rejects(
    spawnDetached({ command: { command: "/nonexistent/postgres", args: [] }, user, logFile: join(home, "missing.log") }),
    (error: unknown) => error instanceof UnavailableError && /postgres could not be started/.test(error.message),
  );
});

void test("a real redis-server in instance directories under a private home: spawn, adopt from its own pid file, stop", { skip: !root && "needs root" }, async () => {
  const rootDirectory = join(home, "instances", "default", "cache-redis-0");
  const paths = { rootDirectory, dataDirectory: join(rootDirectory, "data"), runDirectory: join(rootDirectory, "run") };
  await createInstanceDirectories(paths, user);
  await ensureTraversable(rootDirectory, user);
  const pidFile = join(paths.runDirectory, "redis.pid");
  const supervisor = new ProcessSupervisor();
  const socket = join(paths.runDirectory, "redis.sock");
  const args = ["--port", "0", "--unixsocket", socket, "--save", "", "--dir", paths.dataDirectory, "--pidfile", pidFile];
  const spawned = await supervisor.spawn({ command: { command: "/usr/bin/redis-server", args }, user, logFile: join(home, "logs", "redis.log") });
  reaper.track(spawned.pid);

  const adopted = await eventually(async () => (await findAdoptableProcess(pidFile, "/usr/bin/redis-server", user)) !== undefined);
  assert.ok(adopted, `redis wrote its pid file; log:\n${await tailFile(join(home, "logs", "redis.log"), 2000)}`);
  assert.deepEqual(await findAdoptableProcess(pidFile, "/usr/bin/redis-server", user), spawned);
  assert.equal(await supervisor.stop(spawned.pid, spawned.startTicks, { signal: "SIGTERM", timeoutMs: 10_000 }), "stopped");
  assert.equal(await findAdoptableProcess(pidFile, "/usr/bin/redis-server", user), undefined);
});
