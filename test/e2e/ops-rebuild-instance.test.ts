/**
 * RebuildInstance and Upgrade (issue 14, done-when 1 and 3; ADR 0045), on a real 3-replica PostgreSQL cluster with a
 * writer running: the upstream rebuild.yaml rebuilds a replica from the primary and from a pg-basebackup backup (the
 * replica then streams again and has the primary's rows); a replica whose data files are damaged (pg_control and the
 * databases removed, its server killed) crash-loops until a RebuildInstance repairs it; a RebuildInstance of the primary
 * is refused; one cancelled at once ends Cancelled with the cluster Running; upgrade.yaml (to 14.8.0, with only this
 * host's major installed) fails naming the version and the installed ones, changing nothing.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { stringify } from "yaml";
import type { Cluster, Instance, OpsRequest } from "../../src/api/index.ts";
import { connectionUri, installedPostgresMajor, psql, uriAt } from "../helpers/clients.ts";
import { eventually, run, TestServer } from "../helpers/harness.ts";
import { example, exampleWith } from "../helpers/manifests.ts";
import { PgWriter } from "../helpers/pg-writer.ts";

const NS = "demo";
const NAME = "pg-cluster";
const MEMBERS = [0, 1, 2].map((i) => `${NAME}-postgresql-${i}`);

let server: TestServer;
let major: string;
let uri = "";
let writer: PgWriter | undefined;

before(async () => {
  major = await installedPostgresMajor();
  server = await TestServer.start({ initArgs: ["--advertise", "127.0.74.1"], listenHost: "127.0.74.1" });
  await server.ok(["create", "namespace", NS]);
});

after(async () => {
  await writer?.stop();
  await server.destroy();
});

const cluster = (): Promise<Cluster> => server.api<Cluster>(`/apis/apps.kubeblocks.io/v1/namespaces/${NS}/clusters/${NAME}`);
const instance = (name: string): Promise<Instance> => server.api<Instance>(`/apis/holdfast.io/v1alpha1/namespaces/${NS}/instances/${name}`);
const ops = (name: string): Promise<OpsRequest> => server.api<OpsRequest>(`/apis/operations.kubeblocks.io/v1alpha1/namespaces/${NS}/opsrequests/${name}`);

async function sql(at: string, text: string): Promise<string> {
  const result = await psql(at, text);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.trim();
}

async function primary(): Promise<string> {
  return (await cluster()).status?.replication?.["postgresql"]?.currentPrimary ?? assert.fail("no primary recorded");
}

/** A replica (the highest-numbered one that is not the primary). */
async function aReplica(): Promise<string> {
  const current = await primary();
  return [...MEMBERS].reverse().find((m) => m !== current) ?? assert.fail("no replica");
}

/** The cluster Running, one primary, two ready replicas streaming. */
async function settled(): Promise<void> {
  await eventually("one primary and two streaming replicas, the cluster Running", async () => {
    const c = await cluster();
    const record = c.status?.replication?.["postgresql"];
    if (c.status?.phase !== "Running" || record?.currentPrimary === undefined || record.targetPrimary !== record.currentPrimary) return undefined;
    const all = await Promise.all(MEMBERS.map(instance));
    const streaming = all.filter((i) => i.status?.role === "secondary" && i.status.ready === true && i.status.replication?.state === "streaming");
    return streaming.length === 2 ? true : undefined;
  }, 300_000);
}

/** The replica has every row the primary had committed when this was called. */
async function hasPrimaryRows(name: string): Promise<void> {
  const upTo = await sql(uri, "SELECT coalesce(max(id), 0) FROM rebuild_writes");
  const expected = await sql(uri, `SELECT count(*) FROM rebuild_writes WHERE id <= ${upTo}`);
  const replica = await instance(name);
  const at = uriAt(uri, "127.0.0.1", replica.spec.port);
  await eventually(`${name} has the primary's ${expected} rows up to id ${upTo}`, async () => ((await sql(at, `SELECT count(*) FROM rebuild_writes WHERE id <= ${upTo}`)) === expected ? true : undefined), 120_000);
  assert.equal(await sql(at, "SELECT pg_is_in_recovery()"), "t");
}

async function finished(name: string, timeoutMs = 600_000): Promise<OpsRequest> {
  return eventually(`OpsRequest ${name} to finish`, async () => {
    const o = await ops(name);
    return ["Succeed", "Failed", "Cancelled", "Aborted"].includes(o.status?.phase ?? "") ? o : undefined;
  }, timeoutMs);
}

function rebuild(name: string, target: string, backupName?: string): Promise<string> {
  return exampleWith("postgresql/rebuild.yaml", (doc) => {
    doc["metadata"].name = name;
    const entry = doc["spec"].rebuildFrom[0];
    entry.instances = [{ name: target }];
    if (backupName === undefined) delete entry.backupName;
    else entry.backupName = backupName;
  });
}

describe("RebuildInstance of a 3-replica PostgreSQL cluster under a writer", { timeout: 2_400_000 }, () => {
  test("the cluster, a table and a writer", async () => {
    await server.ok(["apply", "-f", "-"], await exampleWith("postgresql/cluster.yaml", (doc) => {
      doc["spec"].componentSpecs[0].replicas = 3;
      doc["spec"].componentSpecs[0].serviceVersion = major;
    }));
    await server.ok(["wait", `cluster/${NAME}`, "-n", NS, "--for=phase=Running", "--timeout=300s"]);
    await settled();
    uri = await connectionUri(server, NAME, NS);
    await sql(uri, "CREATE TABLE rebuild_writes (id bigint PRIMARY KEY, at timestamptz DEFAULT now())");
    writer = new PgWriter(uri, "rebuild_writes");
    await eventually("writes acknowledged", () => Promise.resolve((writer?.acknowledged.length ?? 0) >= 50 ? true : undefined), 60_000);
  });

  test("rebuild.yaml without backupName: the replica is copied from the primary, streams again and has its rows", async () => {
    const target = await aReplica();
    const before = (await instance(target)).status?.startedAt;
    await server.ok(["apply", "-f", "-"], await rebuild("rebuild-from-primary", target));
    const done = (await finished("rebuild-from-primary")).status ?? assert.fail("no status");
    assert.equal(done.phase, "Succeed", done.message);
    assert.equal(done.progress, "1/1");
    assert.deepEqual(done.progressDetails?.map((d) => [d.objectKey, d.status]), [[`Instance/${target}`, "Succeed"]]);
    const rebuilt = (await instance(target)).status ?? assert.fail("no status");
    assert.equal(rebuilt.rebuild?.state, "Rebuilt");
    assert.match(rebuilt.rebuild.source, /a copy of the primary/);
    assert.notEqual(rebuilt.startedAt, before, "restarted on new data");
    assert.equal((await cluster()).metadata.annotations?.[`holdfast.io/rebuild.${target}`], undefined, "the request is taken off the Cluster");
    await settled();
    await hasPrimaryRows(target);
    const events = await server.ok(["get", "events", "-n", NS]);
    assert.match(events, /Rebuilding/);
    assert.match(events, /Rebuilt/);
  });

  test("rebuild.yaml as it is (from the pg-basebackup backup): restored as a replica, caught up from the primary", async () => {
    await eventually("the BackupPolicy", async () => (await server.cli(["get", "backuppolicies", "-n", NS])).stdout.includes("pg-cluster-postgresql-backup-policy") || undefined);
    await server.ok(["apply", "-f", "-"], await example("postgresql/backup-pg-basebasekup.yaml"));
    await server.ok(["wait", "backup/pg-cluster-pg-basebackup", "-n", NS, "--for=phase=Completed", "--timeout=300s"]);
    // Rows written after the backup: the replica must get them from the primary.
    await eventually("more writes after the backup", () => Promise.resolve((writer?.acknowledged.length ?? 0) >= 200 ? true : undefined), 60_000);
    const target = await aReplica();
    await server.ok(["apply", "-f", "-"], await exampleWith("postgresql/rebuild.yaml", (doc) => void (doc["spec"].rebuildFrom[0].instances = [{ name: target }])));
    const done = await finished("pg-rebuildinstance");
    assert.equal(done.status?.phase, "Succeed", done.status?.message);
    const rebuilt = await instance(target);
    assert.match(rebuilt.status?.rebuild?.source ?? "", /backup demo\/pg-cluster-pg-basebackup, then streaming from/);
    await settled();
    await hasPrimaryRows(target);
  });

  test("a replica whose data files are damaged crash-loops; RebuildInstance repairs it", async () => {
    const target = await aReplica();
    const damaged = await instance(target);
    const data = damaged.status?.dataDirectory ?? join(server.home, "instances", NS, target, "data");
    await rm(join(data, "global", "pg_control"), { force: true });
    await rm(join(data, "base"), { recursive: true, force: true });
    process.kill(damaged.status?.pid ?? assert.fail("no pid"), "SIGKILL");
    await eventually(`${target} failing to start`, async () => {
      const i = await instance(target);
      return (i.status?.restartCount ?? 0) >= (damaged.status?.restartCount ?? 0) + 2 && i.status?.ready !== true ? i : undefined;
    }, 120_000).then((i) => console.log(`${target} damaged: ${i.status?.phase ?? "?"}: ${i.status?.message ?? ""}`));
    await server.ok(["apply", "-f", "-"], await rebuild("rebuild-damaged", target));
    const done = await finished("rebuild-damaged");
    assert.equal(done.status?.phase, "Succeed", done.status?.message);
    await settled();
    await hasPrimaryRows(target);
  });

  test("the primary is refused: switch over first", async () => {
    const current = await primary();
    await server.ok(["apply", "-f", "-"], await rebuild("rebuild-primary", current));
    const done = await finished("rebuild-primary", 60_000);
    assert.equal(done.status?.phase, "Failed");
    assert.ok(done.status.message?.includes(`instance ${current} is the primary of component postgresql: switch over first`), done.status.message);
  });

  test("cancelled at once: Cancelled, the cluster Running, the replica streaming with the primary's rows", async () => {
    const target = await aReplica();
    await server.ok(["apply", "-f", "-"], await rebuild("rebuild-cancel", target));
    const running = await eventually("the rebuild Running", async () => {
      const o = await ops("rebuild-cancel");
      return o.status?.phase === "Running" ? o : undefined;
    }, 60_000);
    await server.ok(["apply", "-f", "-"], stringify({ ...running, metadata: { name: running.metadata.name, namespace: NS }, spec: { ...running.spec, cancel: true }, status: undefined }));
    const done = await finished("rebuild-cancel");
    assert.equal(done.status?.phase, "Cancelled", done.status?.message);
    const detail = done.status.progressDetails?.[0];
    const begun = (await instance(target)).status?.rebuild?.request.startsWith("rebuild-cancel/") === true;
    // Either its old data was untouched (kept), or it had been removed and the replica was copied from the primary.
    console.log(`cancel outcome: ${JSON.stringify(detail)}`);
    assert.equal(detail?.status, begun ? "Succeed" : "Cancelled", detail?.message);
    await settled();
    await hasPrimaryRows(target);
  });

  test("a replica whose primary removed the WAL it needs is rebuilt by itself, with an event", async () => {
    const target = await aReplica();
    const stuck = await instance(target);
    const postmaster = String(stuck.status?.pid ?? assert.fail("no pid"));
    const children = (await run("pgrep", ["-P", postmaster])).stdout.trim().split("\n").filter((p) => p !== "");
    const pids = [postmaster, ...children];
    // Frozen, its WAL sender on the primary times out (wal_sender_timeout), its slot is dropped and the WAL moves on.
    await run("kill", ["-STOP", ...pids]);
    try {
      const slot = `'${target.replaceAll("-", "_")}'`;
      await eventually("its slot inactive on the primary", async () => ((await sql(uri, `SELECT count(*) FROM pg_replication_slots WHERE active AND slot_name = ${slot}`)) === "0" ? true : undefined), 120_000);
      await sql(uri, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = ${slot}`);
      // 40 segments (640MB of WAL positions) in one session: past wal_keep_size (512MB).
      await sql(uri, "CREATE TABLE IF NOT EXISTS wal_pad (x int); DO $$ BEGIN FOR i IN 1..40 LOOP INSERT INTO wal_pad VALUES (i); PERFORM pg_switch_wal(); END LOOP; END $$");
      await sql(uri, "CHECKPOINT");
    } finally {
      await run("kill", ["-CONT", ...pids]);
    }
    await eventually(`${target} rebuilt by itself`, async () => ((await server.ok(["get", "events", "-n", NS])).includes("cannot catch up with") ? true : undefined), 240_000);
    await settled();
    await hasPrimaryRows(target);
  });

  test("upgrade.yaml (14.8.0) fails naming the version and the installed ones; nothing changes", async () => {
    const before = await Promise.all(MEMBERS.map(instance));
    await server.ok(["apply", "-f", "-"], await example("postgresql/upgrade.yaml"));
    const done = await finished("pg-upgrade", 60_000);
    assert.equal(done.status?.phase, "Failed");
    const message = done.status.message ?? "";
    assert.match(message, /serviceVersion 14\.8\.0 of postgresql is not installed on this host \(installed: \d+\.\d+/);
    assert.match(message, /downgrade .* refused/);
    assert.ok(done.status.conditions?.some((c) => c.type === "Failed" && c.message === message));
    assert.equal((await cluster()).spec.componentSpecs[0]?.serviceVersion, major);
    const after = await Promise.all(MEMBERS.map(instance));
    assert.deepEqual(after.map((i) => i.status?.startedAt), before.map((i) => i.status?.startedAt), "no instance restarted");
  });

  test("the writer lost no acknowledged row", async () => {
    const w = writer ?? assert.fail("no writer");
    await w.stop();
    writer = undefined;
    // Read through a client, not psql's argv: tens of thousands of ids do not fit in one argument.
    assert.deepEqual((await w.missingOn(uri, "rebuild_writes")).map((a) => a.id), []);
    console.log(`writer: ${w.acknowledged.length} acknowledged writes, ${w.failures.length} failed attempts`);
  });
});
