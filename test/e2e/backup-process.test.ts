/**
 * A PostgreSQL data-directory backup's data path in a process of its own (ADR 0044, issue 16 done-when 3), on a real
 * cluster on a node that advertises 127.0.92.1, checked with psql: the node agent starts one process per backup whose
 * argv and environment hold no key (read from /proc) while the SQL session stays in the agent; the process's peak
 * memory is recorded (event BackupProcess); a process killed with SIGKILL half-way leaves the backup Failed with its
 * chunks removed, never Completed; an incremental taken the same way restores to the same rows.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Backup } from "../../src/api/index.ts";
import { childProcesses, jobProcess, onlyOneWaiting } from "../helpers/child-processes.ts";
import { connectionUri, installedPostgresMajor, psql } from "../helpers/clients.ts";
import { eventually, run, TestServer } from "../helpers/harness.ts";
import { postgresExample } from "../helpers/manifests.ts";

const NS = "demo";
const ADDRESS = process.env["HOLDFAST_E2E_ADDRESS"] ?? "127.0.92.1";
const SOURCE = "pg-bproc-src";
const CHILD_SCRIPT = "backup-process/child.ts";
const FINGERPRINT = "select count(*) || ':' || sum(aid) || ':' || sum(abalance) from pgbench_accounts";

let server: TestServer;
let major: string;
const figures: Record<string, string | number> = {};

before(async () => {
  major = await installedPostgresMajor();
  server = await TestServer.start({ initArgs: ["--advertise", ADDRESS], serverArgs: ["--advertise", ADDRESS], listenHost: ADDRESS, listenPort: Number(process.env["HOLDFAST_E2E_PORT"] ?? 21400) });
  await server.ok(["create", "namespace", NS]);
});

after(async () => {
  console.log(`backup-process figures: ${JSON.stringify(figures)}`);
  await server.destroy();
});

/** Pids of the server's backup processes (its children running child.ts). */
function backupProcesses(): Promise<number[]> {
  return childProcesses(server.pid, CHILD_SCRIPT);
}

/** The process the backup asked for just after `waiting` was read runs in. */
function jobBackupProcess(waiting: readonly number[], timeoutMs: number): Promise<number> {
  return jobProcess(server.pid, CHILD_SCRIPT, waiting, { timeoutMs, what: "backup process" });
}

/** No backup process is left but the one waiting for the next backup (none of `used`). */
async function assertOnlyOneWaiting(used: readonly number[]): Promise<void> {
  assert.equal(await onlyOneWaiting(server.pid, CHILD_SCRIPT, used), undefined);
}

/** The process's argv is Node's flags and the script, its environment the IPC channel's and the compile cache's path; no key anywhere. */
async function assertNoSecretIn(pid: number): Promise<void> {
  const [cmdline, environ] = await Promise.all([readFile(`/proc/${pid}/cmdline`, "utf8"), readFile(`/proc/${pid}/environ`, "utf8")]);
  const args = cmdline.split("\0").filter((arg) => arg !== "");
  assert.deepEqual(args.slice(1, -1), ["--max-semi-space-size=1", "--disable-warning=ExperimentalWarning"], `argv: ${args.join(" ")}`);
  assert.ok(args.at(-1)?.endsWith(CHILD_SCRIPT), `argv: ${args.join(" ")}`);
  const cache = `NODE_COMPILE_CACHE=${join(server.home, "cache", "modules")}\0`;
  assert.equal(environ.replace(/NODE_CHANNEL_(FD|SERIALIZATION_MODE)=\w+\0/g, "").replace(cache, ""), "", `nothing but the IPC channel's and the compile cache's path: ${environ}`);
  const keyring = await readFile(join(server.home, "keys", "secrets.keyring.json"), "utf8");
  const secrets = keyring.match(/[A-Za-z0-9+/=_-]{40,}/g) ?? [];
  assert.ok(secrets.length > 0, "the keyring holds key material to look for");
  for (const secret of secrets) assert.ok(!cmdline.includes(secret) && !environ.includes(secret), "no key material in argv or env");
}

function backup(name: string): Promise<Backup> {
  return server.api<Backup>(`/apis/dataprotection.kubeblocks.io/v1alpha1/namespaces/${NS}/backups/${name}`);
}

/** The backup process's peak memory (MiB), from the BackupProcess event of Backup `name`. */
async function processPeakMiB(name: string): Promise<number> {
  const events = JSON.parse(await server.ok(["get", "events", "-n", NS, "-o", "json"])) as { items?: Array<{ reason?: string; message?: string; involvedObject?: { name?: string } }> };
  const said = (events.items ?? []).find((event) => event.reason === "BackupProcess" && event.involvedObject?.name === name)?.message ?? "";
  const peak = /backup process peak memory (\d+) MiB/.exec(said);
  assert.ok(peak !== null, `the BackupProcess event gives the process's peak memory: ${said}`);
  return Number(peak[1]);
}

/** Regular files under the backup's data in the local repository. */
async function storedChunks(id: string): Promise<string[]> {
  const entries = await readdir(join(server.home, "backups", "data", id), { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => entry.name);
}

describe("a data-directory backup in its own process", () => {
  let uri = "";

  test("a source cluster with pgbench -s 20", async () => {
    await server.ok(["apply", "-f", "-"], await postgresExample(major, (doc) => (doc["metadata"].name = SOURCE)));
    await server.ok(["wait", `cluster/${SOURCE}`, "-n", NS, "--for=phase=Running", "--timeout=240s"]);
    uri = await connectionUri(server, SOURCE, NS);
    const filled = await run(`/usr/lib/postgresql/${major}/bin/pgbench`, ["-i", "-s", "20", "-q", uri], { timeoutMs: 600_000 });
    assert.equal(filled.code, 0, filled.stderr);
    await eventually("the BackupPolicy", async () => (await server.cli(["get", "backuppolicies", "-n", NS])).stdout.includes(`${SOURCE}-postgresql-backup-policy`) || undefined);
  });

  test("killed with SIGKILL half-way, the attempt fails with its chunks removed: the backup is retried whole or Failed, never Completed with a hole", async () => {
    const waiting = await backupProcesses();
    await server.ok(["backup", "create", "--cluster", SOURCE, "--name", "killed", "-n", NS]);
    const pid = await jobBackupProcess(waiting, 120_000);
    const id = await eventually("the backup's path", async () => (await backup("killed")).status?.path, 60_000);
    // Half-way: some chunks stored, not all.
    await eventually("the first chunks", async () => ((await storedChunks(id)).length > 0 ? true : undefined), 60_000);
    figures["killedAfterChunks"] = (await storedChunks(id)).length;
    process.kill(pid, "SIGKILL");
    const settled = await eventually("the backup to end", async () => {
      const now = await backup("killed");
      return now.status?.phase === "Completed" || now.status?.phase === "Failed" ? now : undefined;
    }, 120_000);
    const killed = /the backup process ended on SIGKILL before the backup's stream was whole/;
    figures["killedBackupPhase"] = settled.status?.phase ?? "?";
    if (settled.status?.phase === "Failed") {
      assert.match(settled.status.failureReason ?? "", killed);
      assert.deepEqual(await storedChunks(id), [], "the killed attempt's chunks are removed");
    } else {
      // The policy's backoffLimit allowed a retry: a new attempt (a new writer session) wrote the whole backup.
      assert.ok((settled.status?.retries ?? 0) >= 1, JSON.stringify(settled.status));
      assert.match(settled.status?.lastRetryReason ?? "", killed);
      const sessions = await readdir(join(server.home, "backups", "data", id));
      assert.equal(sessions.length, 1, `only the whole attempt's chunks are stored: ${sessions.join(", ")}`);
      assert.match(await server.ok(["backup", "verify", "killed", "-n", NS]), /backup killed is intact: (\d+)\/\1 chunks/);
    }
    await assertOnlyOneWaiting([pid]);
  });

  test("a full backup: its process holds no secret in argv or env, its peak memory is recorded, and it verifies", async () => {
    const waiting = await backupProcesses();
    await server.ok(["backup", "create", "--cluster", SOURCE, "--name", "full", "-n", NS]);
    const pid = await jobBackupProcess(waiting, 120_000);
    await assertNoSecretIn(pid);
    await server.ok(["wait", "backup/full", "-n", NS, "--for=phase=Completed", "--timeout=300s"]);
    const peak = await processPeakMiB("full");
    figures["fullProcessPeakMiB"] = peak;
    assert.ok(peak > 20 && peak <= 256, `peak ${peak} MiB`);
    assert.match(await server.ok(["backup", "verify", "full", "-n", NS]), /backup full is intact: (\d+)\/\1 chunks/);
    await assertOnlyOneWaiting([pid]);
  });

  test("an incremental in its own process restores to the same rows", async () => {
    await psql(uri, "update pgbench_accounts set abalance = aid % 97 where aid % 50 = 0");
    const fingerprint = (await psql(uri, FINGERPRINT)).stdout.trim();
    await server.ok(["backup", "create", "--cluster", SOURCE, "--name", "incr", "--parent", "full", "-n", NS, "--wait", "--timeout=300s"]);
    figures["incrementalProcessPeakMiB"] = await processPeakMiB("incr");
    await server.ok(["cluster", "restore", "pg-bproc-dst", "--backup", "incr", "-n", NS]);
    await server.ok(["wait", "cluster/pg-bproc-dst", "-n", NS, "--for=phase=Running", "--timeout=300s"]);
    assert.equal((await psql(await connectionUri(server, "pg-bproc-dst", NS), FINGERPRINT)).stdout.trim(), fingerprint, "every row, as in the source at the incremental");
  });
});
