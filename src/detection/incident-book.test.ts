import { test } from "node:test";
import assert from "node:assert/strict";
import type { Finding } from "./finding.ts";
import { openedStatus, subjectHash, withFiring } from "./incident-book.ts";

function finding(auditIDs: string[], time: string, users = ["alice"]): Finding {
  return { rule: "login-failures-account", severity: "high", subject: "user:alice", summary: "s", auditIDs, users, sourceAddresses: ["10.0.0.1"], objects: [], samples: [{ name: "n", value: auditIDs.length }], time };
}

void test("a new incident is Open with the finding's evidence, and a later firing adds to it without repeating", () => {
  const opened = openedStatus(finding(["a", "b"], "2026-12-06T09:00:00Z"), 200);
  assert.equal(opened.state, "Open");
  assert.equal(opened.firings, 1);
  assert.deepEqual(opened.evidence.auditIDs, ["a", "b"]);
  assert.equal(opened.timeline[0]?.action, "Opened");
  const again = withFiring(opened, finding(["b", "c"], "2026-12-06T09:00:05Z", ["alice", "bob"]), 200);
  assert.equal(again.firings, 2);
  assert.deepEqual(again.evidence.auditIDs, ["a", "b", "c"]);
  assert.deepEqual(again.affectedUsers, ["alice", "bob"]);
  assert.equal(again.firstSeen, "2026-12-06T09:00:00Z");
  assert.equal(again.lastSeen, "2026-12-06T09:00:05Z");
});

void test("evidence is capped, keeping the newest", () => {
  const opened = openedStatus(finding(["a", "b", "c"], "2026-12-06T09:00:00Z"), 2);
  assert.deepEqual(opened.evidence.auditIDs, ["b", "c"]);
});

void test("subject hashes are stable label values", () => {
  assert.equal(subjectHash("user:alice"), subjectHash("user:alice"));
  assert.notEqual(subjectHash("user:alice"), subjectHash("user:bob"));
  assert.match(subjectHash("user:alice"), /^[0-9a-f]{16}$/);
});
