import { test } from "node:test";
import assert from "node:assert/strict";
import { newRotationRequest, passwordGeneration, pendingPassword, rotationProgress, rotationRequestOf, ROTATE_PASSWORDS_ANNOTATION } from "./password-rotation.ts";
import type { Secret } from "./core.ts";

const LABEL = "apps.kubeblocks.io/system-account";

function secret(account: string, annotations: Record<string, string>, next?: string): Secret {
  return { apiVersion: "v1", kind: "Secret", type: "Opaque", metadata: { name: account, labels: { [LABEL]: account }, annotations }, data: { password: "eA==", ...(next === undefined ? {} : { nextPassword: Buffer.from(next).toString("base64") }) } };
}

void test("a rotation request round-trips through the cluster annotation; a malformed one is none", () => {
  const request = newRotationRequest(["postgres"]);
  assert.deepEqual(rotationRequestOf({ [ROTATE_PASSWORDS_ANNOTATION]: JSON.stringify(request) }), request);
  assert.equal(rotationRequestOf({ [ROTATE_PASSWORDS_ANNOTATION]: '{"id":"x y"}' }), undefined);
  assert.equal(rotationRequestOf({}), undefined);
  assert.notEqual(newRotationRequest().id, newRotationRequest().id);
});

void test("generations and the pending password come from the Secret", () => {
  assert.equal(passwordGeneration(secret("a", {})), 0);
  assert.equal(passwordGeneration(secret("a", { "holdfast.io/password-generation": "3" })), 3);
  assert.deepEqual(pendingPassword(secret("a", { "holdfast.io/password-generation": "3" }, "n")), { generation: 4, password: "n" });
  assert.equal(pendingPassword(secret("a", {})), undefined);
});

void test("a request is finished when every selected Secret answered it; refused accounts are told apart", () => {
  const request = { id: "r1", accounts: ["a", "b"] };
  const answered = { "holdfast.io/password-rotation-request": "r1" };
  const rotated = { ...answered, "holdfast.io/password-generation": "1", "holdfast.io/password-rotation-generation": "1" };
  assert.deepEqual(rotationProgress(request, [secret("a", rotated), secret("b", answered), secret("c", {})], LABEL), { finished: true, rotated: ["a"], notRotated: ["b"] });
  assert.equal(rotationProgress(request, [secret("a", rotated, "n"), secret("b", answered)], LABEL).finished, false);
  assert.equal(rotationProgress(request, [], LABEL).finished, false);
});
