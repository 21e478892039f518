/**
 * A restore's data path in a process of its own (ADR 0050, issue 16), on a real PostgreSQL cluster on a node that
 * advertises 127.0.90.1, checked with psql: the node agent starts one process per restore whose argv and environment
 * hold no key nor credential (read from /proc), and a process killed with SIGKILL half-way is a failed attempt — the
 * restore is tried again into an emptied directory and the restored cluster has every row; the Restored condition
 * gives the restore process's peak memory.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Instance } from "../../src/api/index.ts";
import { childProcesses, jobProcess, nextChildProcess, onlyOneWaiting } from "../helpers/child-processes.ts";
import { connectionUri, installedPostgresMajor, psql } from "../helpers/clients.ts";
import { eventually, run, TestServer } from "../helpers/harness.ts";
import { postgresExample } from "../helpers/manifests.ts";

const NS = "demo";
const ADDRESS = "127.0.90.1";
const SOURCE = "pg-proc-src";
const RESTORED = "pg-proc-dst";
const CHILD_SCRIPT = "restore-process/child.ts";

let server: TestServer;
let major: string;
const figures: Record<string, string | number> = {};

before(async () => {
  major = await installedPostgresMajor();
  server = await TestServer.start({ initArgs: ["--advertise", ADDRESS], serverArgs: ["--advertise", ADDRESS], listenHost: ADDRESS });
  await server.ok(["create", "namespace", NS]);
});

after(async () => {
  console.log(`restore-process figures: ${JSON.stringify(figures)}`);
  await server.destroy();
});

/** Pids of the server's restore processes (its children running child.ts). */
function restoreProcesses(): Promise<number[]> {
  return childProcesses(server.pid, CHILD_SCRIPT);
}

/** A restore process not in `seen`. */
function nextRestoreProcess(seen: ReadonlySet<number>, timeoutMs: number): Promise<number> {
  return nextChildProcess(server.pid, CHILD_SCRIPT, { seen, timeoutMs, what: "restore process" });
}

async function instance(name: string): Promise<Instance | undefined> {
  const response = await server.fetch(`/apis/holdfast.io/v1alpha1/namespaces/${NS}/instances/${name}`);
  return response.status === 404 ? undefined : ((await response.json()) as Instance);
}

/** The process's argv is Node's flag and the script, its environment the IPC channel's and the compile cache's path; no key anywhere. */
async function assertNoSecretIn(pid: number): Promise<void> {
  const [cmdline, environ] = await Promise.all([readFile(`/proc/${pid}/cmdline`, "utf8"), readFile(`/proc/${pid}/environ`, "utf8")]);
  const args = cmdline.split("\0").filter((arg) => arg !== "");
  assert.equal(args.length, 3, `argv: ${args.join(" ")}`);
  assert.equal(args[1], "--disable-warning=ExperimentalWarning");
  assert.ok(args[2]?.endsWith(CHILD_SCRIPT), `argv: ${args.join(" ")}`);
  const cache = `NODE_COMPILE_CACHE=${join(server.home, "cache", "modules")}\0`;
  assert.equal(environ.replace(/NODE_CHANNEL_(FD|SERIALIZATION_MODE)=\w+\0/g, "").replace(cache, ""), "", `nothing but the IPC channel's and the compile cache's path: ${environ}`);
  const keyring = await readFile(join(server.home, "keys", "secrets.keyring.json"), "utf8");
  const secrets = keyring.match(/[A-Za-z0-9+/=_-]{40,}/g) ?? [];
  assert.ok(secrets.length > 0, "the keyring holds key material to look for");
  for (const secret of secrets) assert.ok(!cmdline.includes(secret) && !environ.includes(secret), "no key material in argv or env");
}

/** The restore process's peak memory (MiB), as the Restored condition gives it. */
async function restoredPeakMiB(instanceName: string): Promise<number> {
  const restored = (await instance(instanceName))?.status?.conditions?.find((c) => c.type === "Restored");
  assert.equal(restored?.status, "True");
  const peak = /restore process peak memory (\d+) MiB/.exec(restored.message);
  assert.ok(peak !== null, `the Restored condition gives the process's peak memory: ${restored.message}`);
  return Number(peak[1]);
}

const FINGERPRINT = "select count(*) || ':' || sum(aid) || ':' || sum(abalance) from pgbench_accounts";

describe("a restore in its own process", () => {
  let sourceFingerprint = "";

  test("a source cluster with pgbench -s 20 and a Completed backup", async () => {
    await server.ok(["apply", "-f", "-"], await postgresExample(major, (doc) => (doc["metadata"].name = SOURCE)));
    await server.ok(["wait", `cluster/${SOURCE}`, "-n", NS, "--for=phase=Running", "--timeout=240s"]);
    const uri = await connectionUri(server, SOURCE, NS);
    const filled = await run(`/usr/lib/postgresql/${major}/bin/pgbench`, ["-i", "-s", "20", "-q", uri], { timeoutMs: 600_000 });
    assert.equal(filled.code, 0, filled.stderr);
    await psql(uri, "update pgbench_accounts set abalance = aid % 97 where aid % 1000 = 0");
    sourceFingerprint = (await psql(uri, FINGERPRINT)).stdout.trim();
    await eventually("the BackupPolicy", async () => (await server.cli(["get", "backuppolicies", "-n", NS])).stdout.includes(`${SOURCE}-postgresql-backup-policy`) || undefined);
    await server.ok(["backup", "create", "--cluster", SOURCE, "--name", "proc", "-n", NS, "--wait", "--timeout=300s"]);
  });

  test("its process holds no secret in argv or env; killed with SIGKILL half-way, the restore is tried again and is whole", async () => {
    const instanceName = `${RESTORED}-postgresql-0`;
    const data = join(server.home, "instances", NS, instanceName, "data");
    const waiting = await restoreProcesses();
    await server.ok(["cluster", "restore", RESTORED, "--backup", "proc", "-n", NS]);
    const first = await jobProcess(server.pid, CHILD_SCRIPT, waiting, { timeoutMs: 180_000, what: "restore process" });
    const checked = assertNoSecretIn(first);
    // Half-way: some of the data written, not all of it.
    await eventually("the first files of the restore", async () => ((await readdir(join(data, "base")).catch(() => [])).length > 0 ? true : undefined), 60_000);
    figures["killedAtBytes"] = (await instance(instanceName))?.status?.restoreProgress?.bytesDone ?? "?";
    await checked;
    process.kill(first, "SIGKILL");

    const second = await nextRestoreProcess(new Set([first]), 180_000);
    await server.ok(["wait", `cluster/${RESTORED}`, "-n", NS, "--for=phase=Running", "--timeout=300s"]);
    const peak = await restoredPeakMiB(instanceName);
    figures["restoreProcessPeakMiB"] = peak;
    assert.ok(peak > 20 && peak <= 256, `peak ${peak} MiB`);
    const described = await server.ok(["describe", "instance", instanceName, "-n", NS]);
    assert.match(described, /the restore process ended on SIGKILL before the data was whole/, "the killed attempt is recorded as failed");
    assert.equal((await psql(await connectionUri(server, RESTORED, NS), FINGERPRINT)).stdout.trim(), sourceFingerprint, "every row, as in the source");
    assert.equal(await onlyOneWaiting(server.pid, CHILD_SCRIPT, [first, second]), undefined);
  });
});
