/**
 * Admission of the Restore kind and of Restore OpsRequests through the whole pipeline, against a real store and the
 * built-in roles (ADR 0051), on a Redis backup: refused fields, the cluster annotation, an existing cluster, a backup
 * the writer cannot read, and a writer who may create Restores but not clusters.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLUSTER_SNAPSHOT_ANNOTATION, mustKind, type Backup, type Resource } from "../../api/index.ts";
import { createPostgresqlEngine, createRedisEngine } from "../../engines/index.ts";
import { ForbiddenError, InvalidError } from "../../errors/index.ts";
import { AUTHENTICATED_GROUP, Authorizer, ensureBuiltinRoles } from "../../security/index.ts";
import { openSqliteStore, type Store } from "../../store/index.ts";
import { defaultAdmitters } from "./admitters.ts";
import { createAdmission, type Admission } from "./pipeline.ts";

const REDIS_SPEC = { terminationPolicy: "Delete", clusterDef: "redis", topology: "standalone", componentSpecs: [{ name: "redis", replicas: 1 }] };
const ann = { username: "ann", groups: [AUTHENTICATED_GROUP] };
const rita = { username: "rita", groups: [AUTHENTICATED_GROUP] };

let dir: string;
let store: Store;
let authorizer: Authorizer;
let admission: Admission;

function binding(name: string, user: string, roleRef: { kind: string; name: string }): Resource {
  return { apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", metadata: { name, namespace: "team-a" }, roleRef: { apiGroup: "rbac.authorization.k8s.io", ...roleRef }, subjects: [{ kind: "User", apiGroup: "rbac.authorization.k8s.io", name: user }] };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "holdfast-restore-admission-"));
  store = openSqliteStore({ path: join(dir, "store.db") });
  await ensureBuiltinRoles(store);
  authorizer = new Authorizer(store);
  const engineList = [createPostgresqlEngine(), createRedisEngine()];
  const engines = { list: () => engineList, find: (name: string) => engineList.find((e) => e.name === name), versions: (name: string) => Promise.resolve(name === "redis" ? [{ version: "7.2.4", major: "7", binDir: "/usr/bin" }] : []) };
  admission = createAdmission({ store, authorizer, engines }, defaultAdmitters());
  for (const name of ["team-a", "team-b"]) await store.create({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
  await store.create(binding("ann-edit", "ann", { kind: "ClusterRole", name: "edit" }));
  // rita may write Restores and read backups, but not create clusters.
  await store.create({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name: "restorer", namespace: "team-a" }, rules: [{ apiGroups: ["dataprotection.kubeblocks.io"], resources: ["restores", "backups"], verbs: ["get", "create"] }, { apiGroups: ["operations.kubeblocks.io"], resources: ["opsrequests"], verbs: ["get", "create"] }] });
  await store.create(binding("rita-restorer", "rita", { kind: "Role", name: "restorer" }));
  for (const namespace of ["team-a", "team-b"]) {
    const made = await store.create<Backup>({ apiVersion: "dataprotection.kubeblocks.io/v1alpha1", kind: "Backup", metadata: { name: "nightly", namespace, annotations: { [CLUSTER_SNAPSHOT_ANNOTATION]: JSON.stringify(REDIS_SPEC) } }, spec: { backupPolicyName: "redis-redis-backup-policy", backupMethod: "datafile", deletionPolicy: "Delete" } });
    await store.updateStatus<Backup>({ ...made, status: { phase: "Completed" } });
  }
  await store.create({ apiVersion: "apps.kubeblocks.io/v1", kind: "Cluster", metadata: { name: "redis", namespace: "team-a" }, spec: REDIS_SPEC });
});
after(() => {
  authorizer.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

function restore(spec: Record<string, unknown>, annotations: Record<string, string> = { "holdfast.io/restore-to-cluster": "redis-copy" }): Record<string, unknown> {
  return { apiVersion: "dataprotection.kubeblocks.io/v1alpha1", kind: "Restore", metadata: { name: "r1", namespace: "team-a", annotations }, spec: { backup: { name: "nightly" }, ...spec } };
}

function restoreOps(clusterName: string, backupName = "nightly"): Record<string, unknown> {
  return { apiVersion: "operations.kubeblocks.io/v1alpha1", kind: "OpsRequest", metadata: { name: "o1", namespace: "team-a" }, spec: { clusterName, type: "Restore", restore: { backupName } } };
}

async function refusedFields(kind: string, body: Record<string, unknown>, requester = ann): Promise<string[]> {
  try {
    await admission.admitWrite({ kind: mustKind(kind), namespace: "team-a", requester }, body, undefined);
  } catch (error) {
    if (error instanceof InvalidError) return error.causes.map((c) => `${c.field}: ${c.message}`);
    throw error;
  }
  return [];
}

describe("admission of a Restore (dataprotection.kubeblocks.io)", () => {
  it("admits a Restore of a readable, Completed backup into a new cluster named by the annotation", async () => {
    assert.deepEqual(await refusedFields("Restore", restore({})), []);
    // A point in time is checked as cluster admission checks it: it needs a continuous backup.
    const [pitr] = await refusedFields("Restore", restore({ restoreTime: "Jan 02,2025 15:04:05 UTC+0000" }));
    assert.match(pitr ?? "", /^spec\.backup\.name: Invalid value: the cluster restored from this backup would be refused: spec\.restore\.restoreTime: .*no continuous backup/);
  });

  it("refuses each field it cannot honour, naming it", async () => {
    const causes = await refusedFields("Restore", restore({ prepareDataConfig: { volumeClaimRestorePolicy: "Parallel" }, serviceAccountName: "kb", env: [{ name: "A", value: "1" }] }));
    for (const field of ["spec.prepareDataConfig", "spec.serviceAccountName", "spec.env"]) assert.ok(causes.some((c) => c.startsWith(`${field}:`)), `${field} in ${causes.join("; ")}`);
  });

  it("requires the annotation naming the new cluster, and refuses one that exists", async () => {
    const missing = await refusedFields("Restore", restore({}, {}));
    assert.match(missing[0] ?? "", /^metadata\.annotations\[holdfast\.io\/restore-to-cluster\]: Required value: name the new cluster/);
    const existing = await refusedFields("Restore", restore({}, { "holdfast.io/restore-to-cluster": "redis" }));
    assert.match(existing[0] ?? "", /^metadata\.annotations\[holdfast\.io\/restore-to-cluster\]: Duplicate value: "redis": cluster team-a\/redis already exists/);
  });

  it("answers a backup of another namespace the writer cannot read as a missing one, and refuses an unreadable restoreTime", async () => {
    const hidden = await refusedFields("Restore", restore({ backup: { name: "nightly", namespace: "team-b" } }));
    assert.deepEqual(hidden, ["spec.backup.name: Not found: backup team-b/nightly: holdfast backup list -n team-b lists the backups"]);
    const time = await refusedFields("Restore", restore({ restoreTime: "soon" }));
    assert.match(time[0] ?? "", /^spec\.restoreTime: Invalid value: restore time "soon" is not an RFC 3339 time/);
  });

  it("refuses a writer who may create Restores but not clusters (403)", async () => {
    await assert.rejects(admission.admitWrite({ kind: mustKind("Restore"), namespace: "team-a", requester: rita }, restore({}), undefined), (error: unknown) => error instanceof ForbiddenError && /a Restore creates a Cluster, and you may not create clusters in namespace team-a/.test(error.message));
  });
});

describe("admission of a Restore OpsRequest of a Redis backup", () => {
  it("admits a new cluster, refuses an existing one naming spec.clusterName, and a writer who may not create clusters", async () => {
    assert.deepEqual(await refusedFields("OpsRequest", restoreOps("redis-copy")), []);
    const existing = await refusedFields("OpsRequest", restoreOps("redis"));
    assert.match(existing[0] ?? "", /^spec\.clusterName: Duplicate value: "redis"/);
    assert.deepEqual(await refusedFields("OpsRequest", restoreOps("redis-copy", "gone")), ["spec.restore.backupName: Not found: backup team-a/gone: holdfast backup list -n team-a lists the backups"]);
    await assert.rejects(admission.admitWrite({ kind: mustKind("OpsRequest"), namespace: "team-a", requester: rita }, restoreOps("redis-copy"), undefined), ForbiddenError);
  });
});
