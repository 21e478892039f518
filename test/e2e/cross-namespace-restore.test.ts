/**
 * Tenant isolation of backups, end to end: a user who may edit only namespace team-a cannot restore, by any of the
 * ways a restore is asked for (spec.restore, KubeBlocks' restore-from-backup annotation, an update adding either,
 * `holdfast cluster restore`), a real Backup of team-b, and gets the same answer as for a backup that does not exist.
 * An administrator, who may read team-b's backups, still restores across namespaces. A BackupRepo naming a Secret
 * its writer may not read is refused the same way.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { parse } from "yaml";
import { redisCli, redisConnection } from "../helpers/clients.ts";
import { REPO, run, TestServer, type CliResult } from "../helpers/harness.ts";
import { exampleWith } from "../helpers/manifests.ts";

let server: TestServer;
let editor: string;
const CLUSTERS = "/apis/apps.kubeblocks.io/v1/namespaces/team-a/clusters";
const BACKUP = "nightly";

/** A user bound to `role` (a ClusterRole) in `namespace`, or cluster-wide without one; returns an API token. */
async function userWithToken(name: string, role: string, namespace?: string): Promise<string> {
  await server.ok(["user", "create", name, "-o", "json"]);
  const binding =
    namespace === undefined
      ? `apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: ${name}-${role}}\n`
      : `apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: ${name}-${role}, namespace: ${namespace}}\n`;
  await server.ok(["apply", "-f", "-"], `${binding}roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: ${role}}\nsubjects: [{kind: User, apiGroup: rbac.authorization.k8s.io, name: ${name}}]\n`);
  return (JSON.parse(await server.ok(["token", "create", "--name", "e2e", "--expires", "1h", "--user", name, "-o", "json"])) as { token: string }).token;
}

function asToken(token: string, args: string[]): Promise<CliResult> {
  return run(join(REPO, "bin", "holdfast"), args, { env: { ...process.env, HOLDFAST_HOME: server.home, HOLDFAST_SERVER: server.url, HOLDFAST_TOKEN: token } });
}

/** The Redis standalone example as a new cluster `name` in `namespace`, changed by `change`. */
async function redisCluster(name: string, namespace: string, change: (doc: Record<string, any>) => void = () => undefined): Promise<Record<string, any>> {
  return parse(
    await exampleWith("redis/cluster-standalone.yaml", (doc) => {
      doc["metadata"] = { name, namespace };
      change(doc);
    }),
  ) as Record<string, any>;
}

/** POST (or PATCH) as `token`; the status and the Status body with the backup's name replaced by BACKUP_NAME. */
async function answer(token: string, path: string, body: unknown, backupName: string, method = "POST"): Promise<{ status: number; body: string }> {
  const contentType = method === "PATCH" ? "application/merge-patch+json" : "application/json";
  const response = await server.fetch(path, { method, headers: { "Content-Type": contentType }, body: JSON.stringify(body) }, token);
  return { status: response.status, body: (await response.text()).replaceAll(backupName, "BACKUP_NAME") };
}

before(async () => {
  server = await TestServer.start();
  for (const namespace of ["team-a", "team-b"]) await server.ok(["create", "namespace", namespace]);
  // team-b's data, and a real, Completed backup of it.
  await server.ok(["apply", "-f", "-"], JSON.stringify(await redisCluster("vault", "team-b")));
  await server.ok(["wait", "cluster/vault", "-n", "team-b", "--for=phase=Running", "--timeout=120s"]);
  assert.equal((await redisCli(await redisConnection(server, "vault", "team-b"), "SET", "secret-of-team-b", "s3cr3t")).stdout.trim(), "OK");
  const backup = await exampleWith("redis/backup.yaml", (doc) => {
    doc["metadata"] = { name: BACKUP, namespace: "team-b" };
    doc["spec"].backupPolicyName = "vault-redis-backup-policy";
  });
  await server.ok(["apply", "-f", "-"], backup);
  await server.ok(["wait", `backup/${BACKUP}`, "-n", "team-b", "--for=phase=Completed", "--timeout=180s"]);
  editor = await userWithToken("ann", "edit", "team-a");
});

after(async () => {
  await server.destroy();
});

void test("a team-a editor restoring team-b's real backup gets the answer a missing backup gets, by spec.restore and by annotation", async () => {
  const bySpec = (backup: string) => redisCluster("stolen", "team-a", (doc) => (doc["spec"].restore = { source: { name: backup, namespace: "team-b" } }));
  const existing = await answer(editor, CLUSTERS, await bySpec(BACKUP), BACKUP);
  const missing = await answer(editor, CLUSTERS, await bySpec("no-such-backup"), "no-such-backup");
  assert.equal(existing.status, 422, existing.body);
  assert.deepEqual(existing, missing, "an existing backup of another namespace is answered as a missing one");
  assert.match(existing.body, /Not found: backup team-b\/BACKUP_NAME/);

  const annotation = (backup: string) =>
    redisCluster("stolen", "team-a", (doc) => (doc["metadata"].annotations = { "kubeblocks.io/restore-from-backup": JSON.stringify({ redis: { name: backup, namespace: "team-b" } }) }));
  const annotated = await answer(editor, CLUSTERS, await annotation(BACKUP), BACKUP);
  assert.equal(annotated.status, 422, annotated.body);
  assert.deepEqual(annotated, await answer(editor, CLUSTERS, await annotation("no-such-backup"), "no-such-backup"));
  assert.equal((await server.fetch(`${CLUSTERS}/stolen`)).status, 404, "no cluster was created");
});

void test("adding a restore source to an existing cluster is checked the same way", async () => {
  const created = await server.fetch(CLUSTERS, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(await redisCluster("own", "team-a")) }, editor);
  assert.equal(created.status, 201, await created.text());
  const patch = (backup: string) => ({ spec: { restore: { source: { name: backup, namespace: "team-b" } } } });
  const existing = await answer(editor, `${CLUSTERS}/own`, patch(BACKUP), BACKUP, "PATCH");
  assert.equal(existing.status, 422, existing.body);
  assert.deepEqual(existing, await answer(editor, `${CLUSTERS}/own`, patch("no-such-backup"), "no-such-backup", "PATCH"));
  await server.ok(["delete", "cluster", "own", "-n", "team-a", "--wait", "--timeout=120s"]);
});

void test("holdfast cluster restore as the editor fails alike for team-b's backup and a missing one", async () => {
  const restore = (backup: string) => asToken(editor, ["cluster", "restore", "stolen", "--backup", backup, "--backup-namespace", "team-b", "-n", "team-a"]);
  const existing = await restore(BACKUP);
  const missing = await restore("no-such-backup");
  assert.equal(existing.code, 1, existing.stdout);
  assert.equal(existing.stderr.replaceAll(BACKUP, "X"), missing.stderr.replaceAll("no-such-backup", "X"));
});

void test("a BackupRepo naming a credential Secret its writer may not read is refused as if the Secret did not exist", async () => {
  await server.ok(["apply", "-f", "-"], "apiVersion: v1\nkind: Secret\nmetadata: {name: s3-keys, namespace: team-b}\nstringData: {accessKeyId: AKIA, secretAccessKey: abc}\n");
  await server.ok(["apply", "-f", "-"], "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: repo-writer}\nrules: [{apiGroups: [dataprotection.kubeblocks.io], resources: [backuprepos], verbs: [create, get]}]\n");
  const writer = await userWithToken("rita", "repo-writer");
  const repo = (secret: string) => ({
    apiVersion: "dataprotection.kubeblocks.io/v1alpha1",
    kind: "BackupRepo",
    metadata: { name: "borrowed" },
    spec: { storageProviderRef: "s3", config: { bucket: "b", endpoint: "http://127.0.0.1:9" }, credential: { name: secret, namespace: "team-b" } },
  });
  const path = "/apis/dataprotection.kubeblocks.io/v1alpha1/backuprepos";
  const existing = await answer(writer, path, repo("s3-keys"), "s3-keys");
  assert.equal(existing.status, 422, existing.body);
  assert.deepEqual(existing, await answer(writer, path, repo("no-such-secret"), "no-such-secret"));
});

void test("an administrator, who may read team-b's backups, restores one into team-a", async () => {
  await server.ok(["cluster", "restore", "copy", "--backup", BACKUP, "--backup-namespace", "team-b", "-n", "team-a"]);
  await server.ok(["wait", "cluster/copy", "-n", "team-a", "--for=phase=Running", "--timeout=180s"]);
  assert.equal((await redisCli(await redisConnection(server, "copy", "team-a"), "GET", "secret-of-team-b")).stdout.trim(), "s3cr3t");
});
