import { test } from "node:test";
import assert from "node:assert/strict";
import { SHORT_REASON, auditDecision, auditTable, expiryCell, tokensTable, usersTable } from "./security-tables.ts";

const NOW = new Date("2025-06-01T12:00:00Z");

const lines = (table: string): string[] => table.trimEnd().split("\n");
const cells = (line: string | undefined): string[] => (line ?? "").split(/ {3,}/);

test("users: sorted by name, MFA enrolment, ages, <never> for no login; wide adds groups", () => {
  const users = [
    { username: "zoe", groups: [], disabled: true, createdAt: "2025-05-01T12:00:00Z", mfaEnrolled: false },
    { username: "alice", groups: ["system:masters", "team-a"], disabled: false, createdAt: "2025-05-30T12:00:00Z", lastLoginAt: "2025-06-01T11:55:00Z", mfaEnrolled: true },
  ];
  const table = lines(usersTable(users, NOW, false));
  assert.deepEqual(cells(table[0]), ["USERNAME", "DISABLED", "MFA", "CREATED", "LAST LOGIN"]);
  assert.deepEqual(cells(table[1]), ["alice", "false", "enrolled", "2d", "5m"]);
  assert.deepEqual(cells(table[2]), ["zoe", "true", "pending", "31d", "<never>"]);
  const wide = lines(usersTable(users, NOW, true));
  assert.deepEqual(cells(wide[0]).at(-1), "GROUPS");
  assert.equal(cells(wide[1]).at(-1), "system:masters,team-a");
  assert.equal(cells(wide[2]).at(-1), "<none>");
});

test("tokens: id, name, user, ages, time left or expired, revoked; never a token", () => {
  const tokens = [
    { id: "bbbbbbbbbbbbbbbb", name: "backup job", username: "ops", createdAt: "2025-05-01T12:00:00Z", expiresAt: "2025-05-31T12:00:00Z", revoked: false },
    { id: "aaaaaaaaaaaaaaaa", name: "ci", username: "alice", createdAt: "2025-05-31T12:00:00Z", expiresAt: "2025-07-01T12:00:00Z", lastUsedAt: "2025-06-01T11:59:30Z", revoked: true, token: "hfat_must_not_show" },
  ];
  const table = tokensTable(tokens, NOW);
  const rows = lines(table);
  assert.deepEqual(cells(rows[0]), ["ID", "NAME", "USER", "CREATED", "EXPIRES", "LAST USED", "REVOKED"]);
  assert.deepEqual(cells(rows[1]), ["aaaaaaaaaaaaaaaa", "ci", "alice", "24h", "in 30d", "30s", "true"]);
  assert.deepEqual(cells(rows[2]), ["bbbbbbbbbbbbbbbb", "backup job", "ops", "31d", "expired", "<never>", "false"]);
  assert.doesNotMatch(table, /hfat_/);
  assert.equal(expiryCell("2025-06-01T15:30:00Z", NOW), "in 3h30m");
  assert.equal(expiryCell("not a time", NOW), "<unknown>");
});

const allowed = {
  type: "event",
  auditID: "0b0c7f0e-51f4-4a43-9a1f-7d1f2b7c0e11",
  stage: "ResponseComplete",
  verb: "create",
  user: { username: "alice", groups: ["system:authenticated"] },
  sourceIPs: ["127.0.0.1"],
  objectRef: { resource: "clusters", apiGroup: "apps.kubeblocks.io", namespace: "demo", name: "pg" },
  responseStatus: { code: 201 },
  requestReceivedTimestamp: "2025-06-01T11:58:00.123Z",
  annotations: { "authorization.k8s.io/decision": "allow", "authorization.k8s.io/reason": 'RBAC: allowed by RoleBinding "demo/editors" of ClusterRole "edit"' },
};
const forbidden = {
  ...allowed,
  verb: "delete",
  user: { username: "bob", groups: [] },
  objectRef: { resource: "users", apiGroup: "authentication.holdfast.io", name: "alice" },
  responseStatus: { code: 403, reason: "Forbidden" },
  annotations: { "authorization.k8s.io/decision": "forbid", "authorization.k8s.io/reason": `RBAC: no rule allows delete authentication.holdfast.io/users "alice" at cluster scope${" and more".repeat(10)}` },
};
const login = {
  ...allowed,
  verb: "create",
  user: { username: "carol", groups: [] },
  objectRef: undefined,
  annotations: undefined,
  responseStatus: { code: 401 },
  authentication: { outcome: "failure", method: "totp", reason: "code already used" },
};
const checkpoint = { type: "checkpoint", seq: 4, coversSeq: 3, timestamp: "2025-06-01T11:59:00Z" };

test("audit events: time to the second, user, verb, resource with group, ns/name, code, decision and short reason; no checkpoints", () => {
  const table = auditTable([allowed, forbidden, checkpoint, login], false);
  const rows = lines(table);
  assert.equal(rows.length, 4);
  assert.deepEqual(cells(rows[0]), ["TIME", "USER", "VERB", "RESOURCE", "OBJECT", "CODE", "DECISION", "REASON"]);
  assert.deepEqual(cells(rows[1]), ["2025-06-01T11:58:00Z", "alice", "create", "clusters.apps.kubeblocks.io", "demo/pg", "201", "allow", 'RBAC: allowed by RoleBinding "demo/editors" of ClusterRole "edit"']);
  const refused = cells(rows[2]);
  assert.deepEqual(refused.slice(0, 7), ["2025-06-01T11:58:00Z", "bob", "delete", "users.authentication.holdfast.io", "alice", "403", "forbid"]);
  const reason = refused[7] ?? "";
  assert.equal(reason.length, SHORT_REASON);
  assert.ok(reason.endsWith("…"), reason);
  assert.deepEqual(cells(rows[3]), ["2025-06-01T11:58:00Z", "carol", "create", "-", "-", "401", "login failure", "totp: code already used"]);
  assert.doesNotMatch(table, /checkpoint/);
});

test("audit -o wide keeps reasons whole and adds stage, source and audit id", () => {
  const rows = lines(auditTable([forbidden], true));
  assert.deepEqual(cells(rows[0]).slice(7), ["REASON", "STAGE", "SOURCE", "AUDIT-ID"]);
  const row = cells(rows[1]);
  assert.match(row[7] ?? "", /( and more){10}$/);
  assert.deepEqual(row.slice(8), ["ResponseComplete", "127.0.0.1", allowed.auditID]);
});

test("audit decisions read annotation keys with dots, and fall back to the response status", () => {
  assert.deepEqual(auditDecision({ responseStatus: { code: 500, message: "store unavailable" } }), { decision: "-", reason: "store unavailable" });
  assert.deepEqual(auditDecision({ authentication: { outcome: "success", method: "password" } }), { decision: "login success", reason: "password" });
});
