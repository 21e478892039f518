/**
 * Backup and Restore OpsRequests (issue 14; ADR 0051) on a real PostgreSQL cluster on a node advertising 127.0.80.1,
 * checked with psql: a Backup OpsRequest creates a Backup with the cluster's default policy and method and reaches
 * Succeed once that Backup is Completed; a Restore OpsRequest makes a new cluster from it whose rows are identical
 * (checksums per table), and so does a dataprotection Restore object; a Restore naming an existing cluster, a Backup naming a method its policy lacks, and a Restore
 * of a backup that does not exist are refused at admission naming the field.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Backup, Cluster, OpsRequest, Restore } from "../../src/api/index.ts";
import { connectionUri, installedPostgresMajor, psql } from "../helpers/clients.ts";
import { eventually, TestServer } from "../helpers/harness.ts";
import { postgresExample } from "../helpers/manifests.ts";

const NS = "demo";
const ADDRESS = "127.0.80.1";
const SOURCE = "pg-ops-src";
const RESTORED = "pg-ops-dst";
const KIND_RESTORED = "pg-kind-dst";

let server: TestServer;
const figures: Record<string, string> = {};

before(async () => {
  const major = await installedPostgresMajor();
  server = await TestServer.start({ initArgs: ["--advertise", ADDRESS], serverArgs: ["--advertise", ADDRESS], listenHost: ADDRESS });
  await server.ok(["create", "namespace", NS]);
  await server.ok(["apply", "-f", "-"], await postgresExample(major, (doc) => {
    doc["metadata"].name = SOURCE;
    doc["spec"].componentSpecs[0].replicas = 1;
  }));
  await server.ok(["wait", `cluster/${SOURCE}`, "-n", NS, "--for=phase=Running", "--timeout=240s"]);
});

after(async () => {
  console.log(`ops backup/restore figures: ${JSON.stringify(figures)}`);
  await server.destroy();
});

const ops = (name: string): Promise<OpsRequest> => server.api<OpsRequest>(`/apis/operations.kubeblocks.io/v1alpha1/namespaces/${NS}/opsrequests/${name}`);
const backup = (name: string): Promise<Backup> => server.api<Backup>(`/apis/dataprotection.kubeblocks.io/v1alpha1/namespaces/${NS}/backups/${name}`);

function opsManifest(name: string, clusterName: string, type: string, section: Record<string, unknown>): string {
  return JSON.stringify({ apiVersion: "operations.kubeblocks.io/v1alpha1", kind: "OpsRequest", metadata: { name, namespace: NS }, spec: { clusterName, type, ...section } });
}

/** md5 of every row of every table in schema public, by table. */
async function tableChecksums(uri: string): Promise<Record<string, string>> {
  const listed = await psql(uri, "select tablename from pg_tables where schemaname = 'public' order by 1");
  assert.equal(listed.code, 0, listed.stderr);
  const sums: Record<string, string> = {};
  for (const table of listed.stdout.trim().split("\n").filter((t) => t !== "")) {
    const result = await psql(uri, `select count(*) || ':' || coalesce(md5(string_agg(x::text, ',' order by x::text)), '') from "${table}" x`);
    assert.equal(result.code, 0, result.stderr);
    sums[table] = result.stdout.trim();
  }
  return sums;
}

/** Wait until the OpsRequest ends; its final status. */
async function finished(name: string, timeoutMs: number): Promise<NonNullable<OpsRequest["status"]>> {
  return eventually(`opsrequest ${name} to finish`, async () => {
    const status = (await ops(name)).status;
    return ["Succeed", "Failed", "Cancelled", "Aborted"].includes(status?.phase ?? "") ? status : undefined;
  }, timeoutMs);
}

describe("Backup and Restore OpsRequests on PostgreSQL", { timeout: 900_000 }, () => {
  let sourceSums: Record<string, string> = {};
  let backupName = "";

  test("a Backup OpsRequest creates a Backup with the defaults and succeeds once it is Completed", async () => {
    const uri = await connectionUri(server, SOURCE, NS);
    const setup = [
      "create table accounts (id int primary key, owner text not null, balance numeric(12,2) not null)",
      "insert into accounts select g, 'owner-' || g, (g * 7 % 10000) / 100.0 from generate_series(1, 20000) g",
      "create table notes (id bigserial primary key, body jsonb not null)",
      "insert into notes (body) select jsonb_build_object('n', g, 'tag', md5(g::text)) from generate_series(1, 5000) g",
    ];
    for (const sql of setup) assert.equal((await psql(uri, sql)).code, 0);
    sourceSums = await tableChecksums(uri);
    assert.equal(Object.keys(sourceSums).length, 2);
    await eventually("the BackupPolicy", async () => (await server.cli(["get", "backuppolicies", "-n", NS])).stdout.includes(`${SOURCE}-postgresql-backup-policy`) || undefined);

    const started = Date.now();
    await server.ok(["apply", "-f", "-"], opsManifest("ops-backup", SOURCE, "Backup", { backup: { deletionPolicy: "Delete" } }));
    const status = await finished("ops-backup", 300_000);
    figures["opsBackupSeconds"] = ((Date.now() - started) / 1000).toFixed(1);
    assert.equal(status.phase, "Succeed", status.message);
    assert.equal(status.progress, "1/1");
    const detail = status.progressDetails?.[0];
    assert.equal(detail?.status, "Succeed");
    backupName = (detail.objectKey).replace(/^Backup\//, "");
    assert.match(backupName, /^ops-backup-\d{14}$/);
    const made = await backup(backupName);
    assert.equal(made.status?.phase, "Completed");
    assert.deepEqual([made.spec.backupPolicyName, made.spec.backupMethod], [`${SOURCE}-postgresql-backup-policy`, "pg-basebackup"]);
    assert.equal(made.metadata.labels?.["operations.kubeblocks.io/ops-name"], "ops-backup");
    assert.match(status.message ?? "", new RegExp(`backup ${backupName} Completed`));
    const described = await server.ok(["describe", "opsrequest", "ops-backup", "-n", NS]);
    assert.match(described, /BackupCreated/);
  });

  test("a Restore OpsRequest makes a new cluster from that backup, with identical rows", async () => {
    const started = Date.now();
    await server.ok(["apply", "-f", "-"], opsManifest("ops-restore", RESTORED, "Restore", { restore: { backupName, volumeRestorePolicy: "Parallel" } }));
    const status = await finished("ops-restore", 420_000);
    figures["opsRestoreSeconds"] = ((Date.now() - started) / 1000).toFixed(1);
    assert.equal(status.phase, "Succeed", status.message);
    assert.equal(status.progress, "1/1");
    const restored = await server.api<Cluster>(`/apis/apps.kubeblocks.io/v1/namespaces/${NS}/clusters/${RESTORED}`);
    assert.equal(restored.status?.phase, "Running");
    assert.equal(restored.spec.restore?.source.name, backupName);
    assert.deepEqual(await tableChecksums(await connectionUri(server, RESTORED, NS)), sourceSums);
  });

  test("a Restore (dataprotection.kubeblocks.io) makes a new cluster from that backup too, Completed, with identical rows", async () => {
    const manifest = { apiVersion: "dataprotection.kubeblocks.io/v1alpha1", kind: "Restore", metadata: { name: "restore-kind", namespace: NS, annotations: { "holdfast.io/restore-to-cluster": KIND_RESTORED } }, spec: { backup: { name: backupName, namespace: NS } } };
    const started = Date.now();
    await server.ok(["apply", "-f", "-"], JSON.stringify(manifest));
    await server.ok(["wait", "restore/restore-kind", "-n", NS, "--for=phase=Completed", "--timeout=420s"]);
    figures["restoreKindSeconds"] = ((Date.now() - started) / 1000).toFixed(1);
    const restore = await server.api<Restore>(`/apis/dataprotection.kubeblocks.io/v1alpha1/namespaces/${NS}/restores/restore-kind`);
    assert.deepEqual(restore.status?.actions?.prepareData?.map((a) => [a.objectKey, a.status]), [[`Cluster/${KIND_RESTORED}`, "Completed"]]);
    assert.match(await server.ok(["get", "restores", "-n", NS]), new RegExp(`restore-kind\\s+${backupName}\\s+(\\S+\\s+)?Completed`));
    assert.deepEqual(await tableChecksums(await connectionUri(server, KIND_RESTORED, NS)), sourceSums);
    const refused = await server.cli(["apply", "-f", "-"], JSON.stringify({ ...manifest, metadata: { ...manifest.metadata, name: "restore-kind-2" }, spec: { ...manifest.spec, prepareDataConfig: { volumeClaimRestorePolicy: "Parallel" } } }));
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /spec\.prepareDataConfig: .*not supported/);
    assert.match(refused.stderr, /metadata\.annotations\[holdfast\.io\/restore-to-cluster\]: Duplicate value/);
  });

  test("admission refuses, naming the field: a Restore into an existing cluster, a method the policy lacks, a backup that does not exist", async () => {
    const existing = await server.cli(["apply", "-f", "-"], opsManifest("ops-restore-again", SOURCE, "Restore", { restore: { backupName } }));
    assert.notEqual(existing.code, 0);
    assert.match(existing.stderr, /spec\.clusterName: Duplicate value: "pg-ops-src": cluster demo\/pg-ops-src already exists; a Restore creates a new cluster/);

    const method = await server.cli(["apply", "-f", "-"], opsManifest("ops-backup-bad", SOURCE, "Backup", { backup: { backupMethod: "no-such-method" } }));
    assert.notEqual(method.code, 0);
    assert.match(method.stderr, /spec\.backup\.backupMethod: Unsupported value: "no-such-method"/);

    const missing = await server.cli(["apply", "-f", "-"], opsManifest("ops-restore-missing", "pg-ops-none", "Restore", { restore: { backupName: "no-such-backup" } }));
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /spec\.restore\.backupName: Not found: backup demo\/no-such-backup/);

    const none = await server.cli(["get", "opsrequests", "-n", NS]);
    assert.doesNotMatch(none.stdout, /ops-restore-again|ops-backup-bad|ops-restore-missing/);
  });
});
