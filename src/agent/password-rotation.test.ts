import { test } from "node:test";
import assert from "node:assert/strict";
import type { Instance, Secret } from "../api/index.ts";
import { passwordFor } from "./accounts.ts";
import { rotationStep } from "./password-rotation.ts";

void test("the primary (or every instance) changes the password; a replica follows its primary; an instance that accepts it is done", () => {
  const base = { scope: "primary" as const, accepted: 1, generation: 2, isPrimary: false, primaryAccepts: false };
  assert.equal(rotationStep({ ...base, isPrimary: true }), "change");
  assert.equal(rotationStep(base), "wait");
  assert.equal(rotationStep({ ...base, primaryAccepts: true }), "follow");
  assert.equal(rotationStep({ ...base, scope: "every" }), "change");
  assert.equal(rotationStep({ ...base, accepted: 2, isPrimary: true }), "done");
});

void test("the node agent logs in with the next password only once the instance accepts it", () => {
  const secret = { apiVersion: "v1", kind: "Secret", type: "Opaque", metadata: { name: "s", annotations: { "holdfast.io/password-generation": "1" } }, data: { password: Buffer.from("old").toString("base64"), nextPassword: Buffer.from("new").toString("base64") } } as Secret;
  const at = (generation?: number): Instance => ({ metadata: { name: "i" }, status: generation === undefined ? {} : { passwords: { postgres: { generation } } } }) as unknown as Instance;
  assert.equal(passwordFor(secret, at(), "postgres"), "old");
  assert.equal(passwordFor(secret, at(1), "postgres"), "old");
  assert.equal(passwordFor(secret, at(2), "postgres"), "new");
  const committed = { ...secret, data: { password: Buffer.from("new").toString("base64") } } as Secret;
  assert.equal(passwordFor(committed, at(2), "postgres"), "new");
});
