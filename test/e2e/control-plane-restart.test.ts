/**
 * Done-when 4: kill -9 of the server while a cluster is being created, then a restart: the cluster reaches
 * Running with no duplicate or orphaned processes. A server restart while clusters run leaves the database
 * processes untouched: same pids, and an open client session keeps working.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFile, readlink } from "node:fs/promises";
import { basename, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Instance } from "../../src/api/index.ts";
import { connectionUri, installedPostgresMajor, psql } from "../helpers/clients.ts";
import { eventually, processesInside, TestServer } from "../helpers/harness.ts";
import { postgresExample } from "../helpers/manifests.ts";

let server: TestServer;
let major: string;

before(async () => {
  major = await installedPostgresMajor();
  server = await TestServer.start();
});

after(async () => {
  await server.destroy();
});

/** The executable's file name of a process, or "" when it is gone. */
async function executable(pid: number): Promise<string> {
  const target = await readlink(`/proc/${pid}/exe`).catch(() => "");
  return basename(target);
}

/**
 * The processes running in one instance's directory, by role: postmasters (postgres processes whose parent is not a
 * postgres process) and the metrics exporters the node agent runs beside the instance.
 */
async function processesOf(instanceRoot: string): Promise<{ postmasters: number[]; exporters: number[] }> {
  const postmasters: number[] = [];
  const exporters: number[] = [];
  for (const pid of await processesInside(instanceRoot)) {
    const name = await executable(pid);
    if (name.includes("exporter")) {
      exporters.push(pid);
      continue;
    }
    if (name !== "postgres") continue;
    const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if ((await executable(ppid)) !== "postgres") postmasters.push(pid);
  }
  return { postmasters, exporters };
}

test("kill -9 of the server during creation, then a restart: Running, with exactly one postmaster", async () => {
  await server.ok(["apply", "-f", "-", "-n", "default"], await postgresExample(major, (doc) => {
    doc["metadata"].name = "crashy";
    doc["metadata"].namespace = "default";
  }));
  await sleep(400);
  await server.kill();
  await server.startProcess();
  await server.ok(["wait", "cluster/crashy", "--for=phase=Running", "--timeout=120s"]);
  const root = join(server.home, "instances", "default", "crashy-postgresql-0");
  await sleep(1500);
  const { postmasters: masters, exporters } = await processesOf(root);
  assert.equal(masters.length, 1, `one postmaster expected, found ${masters.join(", ")}`);
  assert.ok(exporters.length <= 1, `at most one exporter expected, found ${exporters.join(", ")}`);
  const pod = await server.api<Instance>("/apis/holdfast.io/v1alpha1/namespaces/default/instances/crashy-postgresql-0");
  assert.equal(pod.status?.pid, masters[0]);
  const uri = await connectionUri(server, "crashy", "default");
  assert.equal((await psql(uri, "select 42")).stdout.trim(), "42");
});

test("a server restart leaves databases running: same pid, and an open session keeps working", async () => {
  const pod = await server.api<Instance>("/apis/holdfast.io/v1alpha1/namespaces/default/instances/crashy-postgresql-0");
  // The session goes to the instance itself: the stable endpoint lives in the control plane, and its clients reconnect.
  const endpointUri = await connectionUri(server, "crashy", "default");
  const direct = new URL(endpointUri);
  direct.port = String(pod.spec.port);
  const uri = direct.toString();
  const session = spawn("psql", [uri, "-X", "-A", "-t", "-q"], { stdio: ["pipe", "pipe", "pipe"] });
  let output = "";
  session.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  try {
    session.stdin.write("select 'before';\n");
    await eventually("the first answer", () => Promise.resolve(output.includes("before") ? true : undefined), 10_000);

    await server.kill();
    await server.startProcess();
    await server.ok(["wait", "cluster/crashy", "--for=phase=Running", "--timeout=60s"]);
    await sleep(1500);

    const again = await server.api<Instance>("/apis/holdfast.io/v1alpha1/namespaces/default/instances/crashy-postgresql-0");
    assert.equal(again.status?.pid, pod.status?.pid, "the postmaster was not restarted");
    assert.equal(again.status?.restartCount ?? 0, pod.status?.restartCount ?? 0);
    session.stdin.write("select 'after';\n");
    await eventually("the answer in the same session after the restart", () => Promise.resolve(output.includes("after") ? true : undefined), 10_000);
    assert.equal((await psql(endpointUri, "select 'again'")).stdout.trim(), "again", "a new connection through the endpoint works after the restart");
  } finally {
    session.stdin.end();
    session.kill();
  }
});
