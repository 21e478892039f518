import { afterEach, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { backupSchema, clusterSchema, type Resource } from "../../api/index.ts";
import { AUTHENTICATED_GROUP, Authorizer, ensureBuiltinRoles } from "../../security/index.ts";
import { openSqliteStore, type Store } from "../../store/index.ts";
import { backupPolicyReferences, backupReferences, clusterRestoreReferences } from "./backup-references.ts";
import { referenceCauses } from "./references.ts";
import type { AdmissionContext } from "./types.ts";

let dir: string;
let store: Store;
let authorizer: Authorizer;
let context: AdmissionContext;
const ann = { username: "ann", groups: [AUTHENTICATED_GROUP] };

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "holdfast-references-"));
  store = openSqliteStore({ path: join(dir, "store.db") });
  await ensureBuiltinRoles(store);
  authorizer = new Authorizer(store);
  context = { store, authorizer, engines: { list: () => [], find: () => undefined, versions: () => Promise.resolve([]) } };
  const binding = { apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", metadata: { name: "ann-edit", namespace: "team-a" }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "edit" }, subjects: [{ kind: "User", apiGroup: "rbac.authorization.k8s.io", name: "ann" }] };
  await store.create(binding);
  for (const namespace of ["team-a", "team-b"]) await store.create(backup(namespace, "nightly"));
});
afterEach(() => {
  authorizer.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

function backup(namespace: string, name: string): Resource {
  return { apiVersion: "dataprotection.kubeblocks.io/v1alpha1", kind: "Backup", metadata: { namespace, name }, spec: { backupPolicyName: "p", backupMethod: "datafile" } };
}

function restoredFrom(namespace: string, name: string) {
  return clusterSchema.parse({ apiVersion: "apps.kubeblocks.io/v1", kind: "Cluster", metadata: { name: "copy", namespace: "team-a" }, spec: { clusterDef: "redis", topology: "standalone", componentSpecs: [{ name: "redis" }], restore: { source: { name, namespace } } } });
}

describe("references", () => {
  it("answer a backup the requester may not read exactly as a missing one", async () => {
    const hidden = await referenceCauses(clusterRestoreReferences(restoredFrom("team-b", "nightly")), [], ann, context);
    const missing = await referenceCauses(clusterRestoreReferences(restoredFrom("team-b", "nightly-x")), [], ann, context);
    assert.equal(hidden.length, 1);
    assert.deepEqual(hidden, missing.map((cause) => ({ ...cause, message: cause.message.replace("nightly-x", "nightly") })));
    assert.deepEqual(hidden[0], { field: "spec.restore.source.name", reason: "FieldValueNotFound", message: "Not found: backup team-b/nightly: list backups with holdfast backup list -n team-b" });
  });

  it("let the requester name what it may read and what exists", async () => {
    assert.deepEqual(await referenceCauses(clusterRestoreReferences(restoredFrom("team-a", "nightly")), [], ann, context), []);
    assert.equal((await referenceCauses(clusterRestoreReferences(restoredFrom("team-a", "gone")), [], ann, context)).length, 1);
  });

  it("check only what a write adds: a reference already stored was checked when it was written", async () => {
    const stored = clusterRestoreReferences(restoredFrom("team-b", "nightly"));
    assert.deepEqual(await referenceCauses(stored, stored, ann, context), []);
  });

  it("of an incremental Backup are its policy and its parent, which must exist and be readable", async () => {
    const incremental = (parent: string) => backupSchema.parse({ ...backup("team-a", "incr"), spec: { backupPolicyName: "p", backupMethod: "datafile", parentBackupName: parent } });
    assert.deepEqual(backupReferences(incremental("nightly")).map((r) => `${r.kind} ${r.namespace ?? ""}/${r.name} ${r.cause.field}`), ["BackupPolicy team-a/p spec.backupPolicyName", "Backup team-a/nightly spec.parentBackupName"]);
    const causes = await referenceCauses(backupReferences(incremental("gone")).filter((r) => r.kind === "Backup"), [], ann, context);
    assert.deepEqual(causes, [{ field: "spec.parentBackupName", reason: "FieldValueNotFound", message: "Not found: backup team-a/gone: list backups with holdfast backup list -n team-a" }]);
    assert.deepEqual(await referenceCauses(backupReferences(incremental("nightly")).filter((r) => r.kind === "Backup"), [], ann, context), []);
  });

  it("of a BackupPolicy are its cluster and every connection Secret", () => {
    const policy = {
      apiVersion: "dataprotection.kubeblocks.io/v1alpha1",
      kind: "BackupPolicy",
      metadata: { name: "p", namespace: "team-a" },
      spec: {
        target: { podSelector: { matchLabels: { "app.kubernetes.io/instance": "pg" } }, connectionCredential: { secretName: "pg-account" } },
        backupMethods: [{ name: "m", target: { connectionCredential: { secretName: "other" } } }],
      },
    };
    const named = backupPolicyReferences(policy as never).map((r) => `${r.kind} ${r.namespace ?? ""}/${r.name} ${r.cause.field}`);
    assert.deepEqual(named, [
      "Cluster team-a/pg spec.target.podSelector.matchLabels[app.kubernetes.io/instance]",
      "Secret team-a/pg-account spec.target.connectionCredential.secretName",
      "Secret team-a/other spec.backupMethods[0].target.connectionCredential.secretName",
    ]);
  });
});
