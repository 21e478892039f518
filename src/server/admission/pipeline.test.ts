import { test } from "node:test";
import assert from "node:assert/strict";
import { mustKind } from "../../api/index.ts";
import { InvalidError } from "../../errors/index.ts";
import { createAdmission } from "./pipeline.ts";
import type { AdmissionContext } from "./types.ts";

test("a kind without a schema still gets a name valid for it", async () => {
  // No store, engine or authorizer is reached for a cluster-scoped kind without rules.
  const admission = createAdmission({} as AdmissionContext, new Map());
  const target = { kind: mustKind("ClusterRole") };
  for (const name of ["..", ".", "a/b", "a%2Fb"]) {
    await assert.rejects(admission.admitWrite(target, { metadata: { name } }, undefined), (error: unknown) => error instanceof InvalidError && error.causes[0]?.field === "metadata.name", name);
  }
  const admitted = await admission.admitWrite(target, { metadata: { name: "system:reader" } }, undefined);
  assert.equal(admitted.metadata.name, "system:reader");
});
