import { test } from "node:test";
import assert from "node:assert/strict";
import { containmentRequest, describeIncident } from "./incident.ts";
import { logPath } from "./logs.ts";

void test("logs: the flags become the log query", () => {
  assert.equal(logPath("demo", "pg-0", {}), "/apis/holdfast.io/v1alpha1/namespaces/demo/instances/pg-0/log");
  assert.equal(logPath("demo", "pg-0", { tail: "50", follow: true, since: "10m", container: "exporter" }), "/apis/holdfast.io/v1alpha1/namespaces/demo/instances/pg-0/log?tailLines=50&sinceSeconds=600&follow=true&container=exporter");
  assert.throws(() => logPath("demo", "pg-0", { since: "ten minutes" }), /invalid duration/);
});

void test("incident contain: repeated flags become lists; no step is a usage error", () => {
  assert.deepEqual(containmentRequest({ "disable-user": ["mallory"], "revoke-sessions": ["mallory", "eve"], message: "contained" }), {
    disableUsers: ["mallory"],
    revokeSessions: ["mallory", "eve"],
    revokeTokens: [],
    freezeNamespaces: [],
    unfreezeNamespaces: [],
    rotateCredentials: [],
    message: "contained",
  });
  assert.deepEqual(containmentRequest({ "rotate-credentials": ["demo/pg"] })["rotateCredentials"], ["demo/pg"]);
  assert.throws(() => containmentRequest({ message: "nothing" }), /say what to contain/);
});

void test("incident describe shows the evidence, the timeline and the notifications", () => {
  const text = describeIncident({
    apiVersion: "holdfast.io/v1",
    kind: "Incident",
    metadata: { name: "login-failures-account-1", namespace: "holdfast-system" },
    spec: { rule: "login-failures-account", severity: "high", subject: "user:mallory", summary: "12 failed logins" },
    status: {
      state: "Contained",
      firings: 3,
      firstSeen: "2026-12-06T09:00:00Z",
      lastSeen: "2026-12-06T09:00:05Z",
      evidence: { auditIDs: ["a", "b", "c", "d", "e", "f"], samples: [] },
      affectedUsers: ["mallory"],
      affectedObjects: [],
      sourceAddresses: ["127.0.0.1"],
      timeline: [{ time: "2026-12-06T09:01:00Z", actor: "admin", action: "DisableUser", message: "user mallory disabled" }],
      notifications: [{ channel: "team", messageId: "msg_1", attempt: 1, time: "2026-12-06T09:00:01Z", statusCode: 204, outcome: "Delivered" }],
    },
  });
  assert.match(text, /State:\s+Contained/);
  assert.match(text, /6 audit event\(s\): b, c, d, e, f, …/);
  assert.match(text, /admin\s+DisableUser/);
  assert.match(text, /team\s+attempt 1\s+Delivered \(204\)/);
});
