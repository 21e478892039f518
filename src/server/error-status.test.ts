import { test } from "node:test";
import assert from "node:assert/strict";
import { ConflictError, InvalidError } from "../errors/index.ts";
import { silentLogger } from "../util/index.ts";
import { errorToStatus } from "./error-status.ts";
import { MethodNotAllowedError } from "./http-errors.ts";

void test("errorToStatus carries reason, code, subject and causes of a Holdfast error", () => {
  const error = new InvalidError('Cluster.apps.kubeblocks.io "pg" is invalid', {
    subject: { kind: "Cluster", name: "pg", group: "apps.kubeblocks.io" },
    causes: [{ field: "spec.componentSpecs[0].replicas", message: "Invalid value: -1: replicas must be 0 or more", reason: "FieldValueInvalid" }],
  });
  const { httpStatus, body } = errorToStatus(error, silentLogger());
  assert.equal(httpStatus, 422);
  assert.equal(body.kind, "Status");
  assert.equal(body.status, "Failure");
  assert.equal(body.reason, "Invalid");
  assert.equal(body.code, 422);
  assert.deepEqual(body.details, {
    name: "pg",
    group: "apps.kubeblocks.io",
    kind: "Cluster",
    causes: [{ reason: "FieldValueInvalid", field: "spec.componentSpecs[0].replicas", message: "Invalid value: -1: replicas must be 0 or more" }],
  });
});

void test("errorToStatus omits details when there are none", () => {
  const { httpStatus, body } = errorToStatus(new ConflictError("stale resourceVersion"), silentLogger());
  assert.equal(httpStatus, 409);
  assert.equal(body.reason, "Conflict");
  assert.equal(body.details, undefined);
});

void test("errorToStatus maps the HTTP layer's own errors", () => {
  const { httpStatus, body } = errorToStatus(new MethodNotAllowedError("instances are written by the control plane"), silentLogger());
  assert.equal(httpStatus, 405);
  assert.equal(body.reason, "MethodNotAllowed");
});

void test("errorToStatus never leaks the message of an unexpected error", () => {
  const { httpStatus, body } = errorToStatus(new Error("password=hunter2 at /var/lib/secret"), silentLogger());
  assert.equal(httpStatus, 500);
  assert.equal(body.reason, "InternalError");
  assert.doesNotMatch(body.message, /hunter2|secret/);
});
