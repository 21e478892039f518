import { test } from "node:test";
import assert from "node:assert/strict";
import type { AuditEventRecord } from "../security/index.ts";
import { SignalFilter } from "./signal-source.ts";

function record(fields: Partial<AuditEventRecord>): AuditEventRecord {
  return {
    type: "event",
    kind: "Event",
    apiVersion: "audit.k8s.io/v1",
    auditID: "00000000-0000-4000-8000-000000000001",
    stage: "ResponseComplete",
    level: "Metadata",
    verb: "get",
    user: { username: "alice", groups: ["system:authenticated"] },
    sourceIPs: ["127.0.0.1"],
    userAgent: "test",
    objectRef: { resource: "clusters", apiGroup: "apps.kubeblocks.io", namespace: "demo", name: "pg" },
    responseStatus: { code: 200 },
    requestReceivedTimestamp: "2026-12-06T09:00:00Z",
    stageTimestamp: "2026-12-06T09:00:00Z",
    seq: 1,
    prevHash: "0".repeat(64),
    hash: "1".repeat(64),
    ...fields,
  };
}

void test("ordinary allowed requests are not forwarded; failures, denials, Secret reads and protected deletes are", () => {
  const filter = new SignalFilter(["system:masters"]);
  assert.equal(filter.signalOf(record({}), "n1"), undefined);
  assert.equal(filter.signalOf(record({ stage: "RequestReceived", responseStatus: { code: 0 }, authentication: { outcome: "failure", method: "password+totp" } }), "n1"), undefined, "only outcomes");
  const failure = filter.signalOf(record({ verb: "create", objectRef: { resource: "sessions", apiGroup: "authentication.holdfast.io" }, responseStatus: { code: 401 }, authentication: { outcome: "failure", method: "password+totp", reason: "bad-password" } }), "n1");
  assert.equal(failure?.authentication?.reason, "bad-password");
  assert.equal(failure.node, "n1");
  assert.ok(filter.signalOf(record({ responseStatus: { code: 403 }, annotations: { "authorization.k8s.io/decision": "forbid", "authorization.k8s.io/reason": "no" } }), "n1"));
  assert.ok(filter.signalOf(record({ objectRef: { resource: "secrets", apiGroup: "", namespace: "demo", name: "s" } }), "n1"));
  assert.ok(filter.signalOf(record({ verb: "delete", objectRef: { resource: "backups", apiGroup: "dataprotection.kubeblocks.io", namespace: "demo", name: "b" } }), "n1"));
  const token = filter.signalOf(record({ verb: "create", objectRef: { resource: "apitokens", apiGroup: "authentication.holdfast.io" }, responseStatus: { code: 201 }, annotations: { "authorization.k8s.io/decision": "allow", "authorization.k8s.io/reason": "r", "holdfast.io/acting-for": "bob" } }), "n1");
  assert.equal(token?.actingFor, "bob");
  const login = filter.signalOf(record({ verb: "login", user: { username: "database:postgres", groups: [] }, objectRef: { resource: "instances", subresource: "login", apiGroup: "holdfast.io", namespace: "demo", name: "pg-0" } }), "n1");
  assert.deepEqual([login?.subresource, login?.name, login?.username], ["login", "pg-0", "database:postgres"], "a database superuser login");
  assert.equal(filter.signalOf(record({ objectRef: { resource: "instances", subresource: "log", apiGroup: "holdfast.io", namespace: "demo", name: "pg-0" } }), "n1"), undefined, "a log read is not");
});

void test("an administrator's requests are forwarded once per source address", () => {
  const filter = new SignalFilter(["system:masters"]);
  const admin = (ip: string): AuditEventRecord => record({ user: { username: "admin", groups: ["system:masters"] }, sourceIPs: [ip] });
  assert.ok(filter.signalOf(admin("127.0.0.1"), "n1"));
  assert.equal(filter.signalOf(admin("127.0.0.1"), "n1"), undefined);
  assert.ok(filter.signalOf(admin("127.0.0.2"), "n1"));
});
