import { test } from "node:test";
import assert from "node:assert/strict";
import type { Instance, Secret } from "../api/index.ts";
import { configuredCredentials, passwordFor } from "./accounts.ts";
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

void test("an engine that keeps the previous password adds the next, moves the connections once every holder has it, then drops the previous", () => {
  const base = { scope: "every" as const, keepsPrevious: true, accepted: 1, connectsWith: 1, alone: 1, generation: 2, isPrimary: false, primaryAccepts: false, everyHolderAccepts: false };
  assert.equal(rotationStep(base), "change");
  assert.equal(rotationStep({ ...base, accepted: 2 }), "wait", "another holder does not accept it yet");
  assert.equal(rotationStep({ ...base, accepted: 2, everyHolderAccepts: true }), "connect");
  assert.equal(rotationStep({ ...base, accepted: 2, connectsWith: 2, everyHolderAccepts: true }), "done", "the controller makes it the password in effect");
  const inEffect = { ...base, accepted: 2, connectsWith: 2, inEffect: true };
  assert.equal(rotationStep(inEffect), "retire");
  assert.equal(rotationStep({ ...inEffect, clientsFollowed: false }), "wait", "its exporter still logs in with the previous one");
  assert.equal(rotationStep({ ...inEffect, alone: 2 }), "done");
  assert.equal(rotationStep({ ...inEffect, accepted: -1 }), "done", "an instance that never took part has nothing to drop");
  assert.equal(rotationStep({ ...inEffect, keepsPrevious: false }), "done");
});

void test("during a rotation the configuration accepts both passwords once the instance does, and logs in with the next once every holder has it", () => {
  const secret = { apiVersion: "v1", kind: "Secret", type: "Opaque", metadata: { name: "s", annotations: { "holdfast.io/password-generation": "1" } }, data: { password: Buffer.from("old").toString("base64"), nextPassword: Buffer.from("new").toString("base64") } } as Secret;
  const at = (status?: { generation: number; connectsWith?: number }): Instance => ({ metadata: { name: "i" }, status: status === undefined ? {} : { passwords: { replicator: status } } }) as unknown as Instance;
  assert.deepEqual(configuredCredentials(secret, at(), "replicator"), { username: "replicator", password: "old" });
  assert.deepEqual(configuredCredentials(secret, at({ generation: 2 }), "replicator"), { username: "replicator", password: "old", otherPasswords: ["new"] });
  assert.deepEqual(configuredCredentials(secret, at({ generation: 2, connectsWith: 2 }), "replicator"), { username: "replicator", password: "new", otherPasswords: ["old"] });
  const committed = { ...secret, metadata: { name: "s", annotations: { "holdfast.io/password-generation": "2" } }, data: { password: Buffer.from("new").toString("base64") } } as Secret;
  assert.deepEqual(configuredCredentials(committed, at({ generation: 2, connectsWith: 2 }), "replicator"), { username: "replicator", password: "new" });
});
