// Which backups an incremental backup may build on.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Backup } from "../api/index.ts";
import { parentLinkOf, parentProblem } from "./incremental-parent.ts";

const target = { cluster: "pg", component: "postgresql", method: "pg-basebackup", repoName: "local" };

function parent(changes: { phase?: string; method?: string; cluster?: string; repo?: string; digest?: string | undefined; deleting?: boolean } = {}): Backup {
  const digest = "digest" in changes ? changes.digest : "a".repeat(64);
  return {
    apiVersion: "dataprotection.kubeblocks.io/v1alpha1",
    kind: "Backup",
    metadata: { name: "full", namespace: "demo", uid: "u1", ...(changes.deleting === true ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}) },
    spec: { backupPolicyName: "p", backupMethod: changes.method ?? "pg-basebackup", deletionPolicy: "Delete" },
    status: {
      phase: (changes.phase ?? "Completed") as "Completed",
      backupRepoName: changes.repo ?? "local",
      source: { cluster: changes.cluster ?? "pg", component: "postgresql", instance: "pg-postgresql-0", engine: "postgresql", version: "15.4" },
      ...(digest === undefined ? {} : { manifestSha256: digest }),
    },
  };
}

test("a Completed backup of the same component, method and repository is a parent; its link names its id and digest", () => {
  assert.equal(parentProblem("full", parent(), target), undefined);
  assert.deepEqual(parentLinkOf(parent()), { backupId: "demo_full_u1", expectedManifestSha256: "a".repeat(64) });
});

test("anything else is refused, saying why", () => {
  assert.match(parentProblem("full", undefined, target) ?? "", /parent backup full not found/);
  assert.match(parentProblem("full", parent({ phase: "Running" }), target) ?? "", /is Running; .*only on a Completed one/);
  assert.match(parentProblem("full", parent({ deleting: true }), target) ?? "", /being deleted/);
  assert.match(parentProblem("full", parent({ method: "pgdump" }), target) ?? "", /taken with pgdump, not pg-basebackup/);
  assert.match(parentProblem("full", parent({ cluster: "other" }), target) ?? "", /is of other\/postgresql, not pg\/postgresql/);
  assert.match(parentProblem("full", parent({ repo: "s3" }), target) ?? "", /in BackupRepo s3, not local/);
  assert.match(parentProblem("full", parent({ digest: undefined }), target) ?? "", /no recorded manifest digest/);
});
