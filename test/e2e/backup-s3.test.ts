/**
 * Backup and restore through the controllers into an S3-compatible repository (done-when 7): a BackupRepo with
 * storageProviderRef s3 (bucket, prefix, endpoint, region) whose credentials are a Secret, a real S3-API server
 * (s3rver) on loopback, the KubeBlocks backup example, a restore into a new cluster with identical data, verify, and
 * deletion removing the objects. The row values and the credentials appear in plaintext in neither the bucket nor the
 * store.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { stringify } from "yaml";
import type { Backup, BackupPolicy, BackupRepo } from "../../src/api/index.ts";
import { startS3Server, type S3TestServer } from "../backup/s3-server.ts";
import { connectionUri, psql, startDemoServer } from "../helpers/clients.ts";
import { eventually, type TestServer } from "../helpers/harness.ts";
import { exampleWith, postgresExample } from "../helpers/manifests.ts";

const DP = "/apis/dataprotection.kubeblocks.io/v1alpha1";
const REPO = "s3-repo";
const PREFIX = "holdfast/e2e";
let server: TestServer;
let s3: S3TestServer;
let major: string;
const canary = `holdfast-s3-canary-${randomUUID()}`;
const timings: Record<string, string> = {};

before(async () => {
  [{ server, major }, s3] = await Promise.all([startDemoServer(), startS3Server("holdfast-backups")]);
});

after(async () => {
  console.log(`S3 backup/restore timings: ${JSON.stringify(timings)}`);
  await server.destroy();
  await s3.stop();
});

/** Every file s3rver keeps, with its contents. */
async function bucketFiles(): Promise<{ path: string; bytes: Buffer }[]> {
  const entries = await readdir(s3.directory, { recursive: true, withFileTypes: true });
  return Promise.all(entries.filter((e) => e.isFile()).map(async (e) => ({ path: join(e.parentPath, e.name), bytes: await readFile(join(e.parentPath, e.name)) })));
}

/** Object keys below a prefix of the bucket (s3rver keeps an object as `<key>._S3rver_object`, beside metadata files). */
async function objectsUnder(prefix: string): Promise<string[]> {
  const entries = await readdir(join(s3.directory, s3.bucket), { recursive: true }).catch(() => []);
  return entries.filter((e) => e.endsWith("._S3rver_object")).map((e) => e.slice(0, -"._S3rver_object".length)).filter((key) => key.startsWith(prefix));
}

async function tableSums(uri: string): Promise<string> {
  const result = await psql(uri, "select string_agg(t || ':' || s, ',' order by t) from (select 'a' t, count(*) || md5(string_agg(x::text, ',' order by id)) s from a x union all select 'notes', string_agg(note, ',') from notes) q");
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.trim();
}

describe("an S3 BackupRepo through the controllers", () => {
  let sourceSums: string;

  test("the BackupRepo with its credential Secret becomes Ready", async () => {
    const secret = { apiVersion: "v1", kind: "Secret", metadata: { name: "s3-credential", namespace: "demo" }, stringData: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } };
    const repo = await exampleWith("postgresql/backuprepo.yaml", (doc) => {
      doc["metadata"] = { name: REPO };
      doc["spec"].storageProviderRef = "s3";
      doc["spec"].config = { bucket: s3.bucket, region: "us-east-1", endpoint: s3.endpoint, prefix: PREFIX };
      doc["spec"].credential = { name: "s3-credential", namespace: "demo" };
    });
    await server.ok(["apply", "-f", "-"], `${stringify(secret)}---\n${repo}`);
    const ready = await eventually("the BackupRepo to be Ready", async () => {
      const live = await server.api<BackupRepo>(`${DP}/backuprepos/${REPO}`);
      return live.status?.phase === "Ready" ? live : undefined;
    });
    assert.equal(ready.status?.conditions?.find((c) => c.type === "PreCheckPassed")?.status, "True");
  });

  test("the cluster's BackupPolicy pointed at it, the KubeBlocks backup example lands in the bucket, Completed", async () => {
    await server.ok(["apply", "-f", "-"], await postgresExample(major));
    await server.ok(["wait", "cluster/pg-cluster", "-n", "demo", "--for=phase=Running", "--timeout=120s"]);
    const uri = await connectionUri(server, "pg-cluster", "demo");
    for (const sql of ["create table a (id int primary key, v text)", "insert into a select g, md5(g::text) from generate_series(1, 200000) g", `create table notes (note text); insert into notes values ('${canary}')`]) {
      assert.equal((await psql(uri, sql)).code, 0);
    }
    sourceSums = await tableSums(uri);
    const policy = await eventually("the BackupPolicy", () => server.api<BackupPolicy>(`${DP}/namespaces/demo/backuppolicies/pg-cluster-postgresql-backup-policy`).catch(() => undefined));
    await server.ok(["apply", "-f", "-"], stringify({ apiVersion: policy.apiVersion, kind: policy.kind, metadata: { name: policy.metadata.name, namespace: "demo" }, spec: { ...policy.spec, backupRepoName: REPO } }));
    const started = Date.now();
    await server.ok(["apply", "-f", "-"], await exampleWith("postgresql/backup-pg-basebasekup.yaml", () => undefined));
    await server.ok(["wait", "backup/pg-cluster-pg-basebackup", "-n", "demo", "--for=phase=Completed", "--timeout=180s"]);
    timings["backupSeconds"] = ((Date.now() - started) / 1000).toFixed(1);
    const backup = await server.api<Backup>(`${DP}/namespaces/demo/backups/pg-cluster-pg-basebackup`);
    assert.equal(backup.status?.backupRepoName, REPO);
    timings["totalSize"] = backup.status.totalSize ?? "";
    timings["storedSize"] = backup.status.storedSize ?? "";
    const id = backup.status.path ?? "";
    const objects = await objectsUnder(`${PREFIX}/data/${id}/`);
    assert.ok(objects.length > 0, "chunks under the repository's prefix");
    assert.equal((await objectsUnder(`${PREFIX}/manifests/${id}`)).length, 1, "one manifest");
    assert.deepEqual(await readdir(join(server.home, "backups", "data")).catch(() => []), [], "nothing went to the local repository");
  });

  test("neither the bucket nor the store holds a row value or the credentials in plaintext", async () => {
    const needle = Buffer.from(canary);
    for (const file of await bucketFiles()) assert.equal(file.bytes.includes(needle), false, `${file.path} holds the row value`);
    const storeFiles = (await readdir(server.home)).filter((f) => f.startsWith("store.db"));
    assert.ok(storeFiles.length > 0);
    // s3rver only knows the key pair S3RVER/S3RVER: the Secret is checked for that value and its base64.
    for (const file of storeFiles) {
      const bytes = await readFile(join(server.home, file));
      for (const value of [s3.secretAccessKey, Buffer.from(s3.secretAccessKey).toString("base64")]) assert.equal(bytes.includes(Buffer.from(`"${value}"`)), false, `${file} holds the secret key in plaintext`);
    }
  });

  test("verify re-reads it from the bucket", async () => {
    const out = await server.ok(["backup", "verify", "pg-cluster-pg-basebackup", "-n", "demo"]);
    assert.match(out, /backup pg-cluster-pg-basebackup is intact: (\d+)\/\1 chunks/);
  });

  test("restoring it into a new cluster gives identical data", async () => {
    const started = Date.now();
    await server.ok(["cluster", "restore", "pg-from-s3", "--backup", "pg-cluster-pg-basebackup", "-n", "demo"]);
    await server.ok(["wait", "cluster/pg-from-s3", "-n", "demo", "--for=phase=Running", "--timeout=180s"]);
    timings["restoreSeconds"] = ((Date.now() - started) / 1000).toFixed(1);
    assert.equal(await tableSums(await connectionUri(server, "pg-from-s3", "demo")), sourceSums);
  });

  test("deleting the backup removes its objects from the bucket", async () => {
    const id = (await server.api<Backup>(`${DP}/namespaces/demo/backups/pg-cluster-pg-basebackup`)).status?.path ?? "";
    await server.ok(["backup", "delete", "pg-cluster-pg-basebackup", "-n", "demo"]);
    await eventually("the backup to go", async () => ((await server.fetch(`${DP}/namespaces/demo/backups/pg-cluster-pg-basebackup`)).status === 404 ? true : undefined));
    assert.deepEqual(await objectsUnder(`${PREFIX}/data/${id}/`), []);
    assert.deepEqual(await objectsUnder(`${PREFIX}/manifests/${id}`), []);
  });
});
