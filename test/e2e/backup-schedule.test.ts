/**
 * Scheduled backups end to end, in real minutes against real PostgreSQL and the local repository (done-when 6): a
 * BackupSchedule of `*\/1 * * * *` with retentionPeriod 2m creates one backup per minute, each labelled for its
 * schedule and expiring at its start plus two minutes, and the expired ones vanish with their repository files.
 * Then a cluster deleted with terminationPolicy WipeOut takes its backups and their data with it.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { stringify } from "yaml";
import type { Backup, BackupSchedule } from "../../src/api/index.ts";
import { connectionUri, psql, startDemoServer } from "../helpers/clients.ts";
import { eventually, type TestServer } from "../helpers/harness.ts";
import { postgresExample } from "../helpers/manifests.ts";

const DP = "/apis/dataprotection.kubeblocks.io/v1alpha1/namespaces/demo";
const RETENTION_MS = 2 * 60_000;
let server: TestServer;
let major: string;
const timings: Record<string, string> = {};

before(async () => {
  ({ server, major } = await startDemoServer());
});

after(async () => {
  console.log(`backup schedule timings: ${JSON.stringify(timings)}`);
  await server.destroy();
});

async function backups(): Promise<Backup[]> {
  return (await server.api<{ items: Backup[] }>(`${DP}/backups`)).items;
}

/** Repository objects of one backup: its chunks and its manifest. */
async function repositoryFiles(id: string): Promise<string[]> {
  const root = join(server.home, "backups");
  const data = await readdir(join(root, "data", id), { recursive: true }).catch(() => []);
  const manifests = (await readdir(join(root, "manifests")).catch(() => [])).filter((name) => name.startsWith(id));
  return [...data.map((f) => `data/${id}/${f}`), ...manifests.map((f) => `manifests/${f}`)];
}

const schedule = {
  apiVersion: "dataprotection.kubeblocks.io/v1alpha1",
  kind: "BackupSchedule",
  metadata: { name: "pg-cluster-every-minute", namespace: "demo" },
  spec: {
    backupPolicyName: "pg-cluster-postgresql-backup-policy",
    schedules: [{ backupMethod: "pg-basebackup", enabled: true, cronExpression: "*/1 * * * *", retentionPeriod: "2m" }],
  },
};

/** What the test saw of one scheduled backup: its repository path, expiration, and when it was seen gone. */
interface Seen {
  path?: string;
  expiration?: string;
  goneAt?: number;
  completed: boolean;
}

/** Look at the schedule's backups once: record what is there, and when one seen before is gone. */
async function observe(seen: Map<string, Seen>): Promise<void> {
  const present = new Map((await backups()).filter((b) => b.metadata.labels?.["dataprotection.kubeblocks.io/backup-schedule"] === schedule.metadata.name).map((b) => [b.metadata.name, b]));
  for (const [name, backup] of present) {
    const entry = seen.get(name) ?? { completed: false };
    const status = backup.status ?? {};
    seen.set(name, { ...entry, ...(status.path === undefined ? {} : { path: status.path }), ...(status.expiration === undefined ? {} : { expiration: status.expiration }), completed: entry.completed || status.phase === "Completed" });
  }
  for (const [name, entry] of seen) if (!present.has(name) && entry.goneAt === undefined) seen.set(name, { ...entry, goneAt: Date.now() });
}

describe("a schedule every minute with a two-minute retention", () => {
  const seen = new Map<string, Seen>();

  test("a WipeOut cluster with data", async () => {
    await server.ok(["apply", "-f", "-"], await postgresExample(major, (doc) => (doc["spec"].terminationPolicy = "WipeOut")));
    await server.ok(["wait", "cluster/pg-cluster", "-n", "demo", "--for=phase=Running", "--timeout=120s"]);
    const uri = await connectionUri(server, "pg-cluster", "demo");
    assert.equal((await psql(uri, "create table t as select g from generate_series(1, 10000) g")).code, 0);
    await eventually("the BackupPolicy", async () => (await server.cli(["get", "backuppolicies", "-n", "demo"])).stdout.includes("pg-cluster-postgresql-backup-policy") || undefined);
  });

  test("creates a backup each minute and deletes each one, with its repository files, once it expires", async () => {
    const applied = Date.now();
    await server.ok(["apply", "-f", "-"], stringify(schedule));
    const deadline = applied + 4.5 * 60_000;
    const firstGone = (): [string, Seen] | undefined => [...seen].find(([, entry]) => entry.goneAt !== undefined);
    while (Date.now() < deadline && (firstGone() === undefined || seen.size < 3)) {
      await observe(seen);
      await sleep(1000);
    }
    timings["secondsToFirstExpiry"] = ((Date.now() - applied) / 1000).toFixed(0);
    assert.ok(seen.size >= 3, `backups seen: ${[...seen.keys()].join(", ")}`);
    const [name, gone] = firstGone() ?? assert.fail("no backup expired within 4.5 minutes");
    assert.ok(gone.completed, `${name} was deleted before it was seen Completed`);
    assert.ok(gone.path !== undefined && gone.expiration !== undefined && gone.goneAt !== undefined);
    const late = gone.goneAt - Date.parse(gone.expiration);
    timings["deletedSecondsAfterExpiration"] = (late / 1000).toFixed(1);
    assert.ok(late >= 0 && late < 15_000, `deleted ${timings["deletedSecondsAfterExpiration"]} s after its expiration`);
    assert.deepEqual(await repositoryFiles(gone.path), [], "its chunks and manifest are removed from the repository");
  });

  test("one backup per minute slot, named for it, expiring at start plus the retention; status says when it last ran", async () => {
    const stamps = [...seen.keys()].map((name) => /^pg-cluster-(\d{14})$/.exec(name)?.[1]);
    assert.ok(stamps.every((s) => s !== undefined && s.endsWith("00")), `names: ${[...seen.keys()].join(", ")}`);
    assert.equal(new Set(stamps.map((s) => s?.slice(0, 12))).size, stamps.length, "two backups for one minute");
    const started = (await backups()).filter((b) => b.status?.startTimestamp !== undefined);
    assert.ok(started.length > 0);
    for (const backup of started) checkScheduled(backup);
    const live = await server.api<BackupSchedule>(`${DP}/backupschedules/${schedule.metadata.name}`);
    assert.equal(live.status?.phase, "Available");
    const entry = live.status.schedules?.["pg-basebackup"];
    assert.match(entry?.lastScheduleTime ?? "", /:00(\.000)?Z$/);
    assert.ok(entry?.lastSuccessfulTime !== undefined);
  });

  test("deleting the cluster with WipeOut deletes its backups and their data", async () => {
    const before = (await backups()).filter((b) => b.metadata.labels?.["app.kubernetes.io/instance"] === "pg-cluster");
    assert.ok(before.length > 0);
    const paths = before.map((b) => b.status?.path).filter((p) => p !== undefined);
    await server.ok(["delete", "backupschedule", schedule.metadata.name, "-n", "demo"]);
    await server.ok(["delete", "cluster", "pg-cluster", "-n", "demo", "--wait", "--timeout=120s"]);
    assert.deepEqual((await backups()).map((b) => b.metadata.name), []);
    for (const path of paths) assert.deepEqual(await repositoryFiles(path), [], `data of ${path}`);
  });
});

/** A started scheduled backup: labelled as KubeBlocks does, expiring two minutes after its start. */
function checkScheduled(backup: Backup): void {
  const start = backup.status?.startTimestamp ?? "";
  assert.equal(Date.parse(backup.status?.expiration ?? "") - Date.parse(start), RETENTION_MS);
  assert.equal(backup.spec.retentionPeriod, "2m");
  assert.equal(backup.metadata.labels?.["dataprotection.kubeblocks.io/autobackup"], "true");
  timings["secondsFromSlotToStart"] ??= ((Date.parse(start) - Date.parse(stampToIso(backup.metadata.name))) / 1000).toFixed(1);
}

function stampToIso(name: string): string {
  const s = /(\d{14})$/.exec(name)?.[1] ?? "";
  return `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(8, 10)}:${s.slice(10, 12)}:${s.slice(12, 14)}Z`;
}
