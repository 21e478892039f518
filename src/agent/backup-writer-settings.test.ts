// The BackupPolicy annotation that sets a backup's worker threads.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { BackupPolicy } from "../api/index.ts";
import { processMaxOf } from "./backup-writer-settings.ts";

function policy(value?: string): BackupPolicy {
  return {
    apiVersion: "dataprotection.kubeblocks.io/v1alpha1",
    kind: "BackupPolicy",
    metadata: { name: "pg-policy", ...(value === undefined ? {} : { annotations: { "holdfast.io/backup-process-max": value } }) },
    spec: { backupRepoName: "local", backupMethods: [{ name: "pg-basebackup" }] },
  };
}

test("absent: the default; a whole number from 1 to 16: that many threads; anything else: a problem naming the annotation", () => {
  assert.equal(processMaxOf(policy()), undefined);
  assert.equal(processMaxOf(policy("2")), 2);
  assert.equal(processMaxOf(policy("16")), 16);
  for (const bad of ["0", "17", "1.5", "two", ""]) {
    const result = processMaxOf(policy(bad));
    assert.ok(typeof result === "object", bad);
    assert.match(result.problem, /annotation holdfast\.io\/backup-process-max must be a whole number from 1 to 16/);
  }
});
