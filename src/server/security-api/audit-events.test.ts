import { test } from "node:test";
import assert from "node:assert/strict";
import { auditQuery } from "./audit-events.ts";

const NOW = new Date("2026-06-01T12:00:00Z");

test("auditevents filters: exact fields, since as a duration back from now or an RFC 3339 time", () => {
  assert.deepEqual(auditQuery("/d", new URLSearchParams(""), NOW), { directory: "/d" });
  const q = auditQuery("/d", new URLSearchParams("user=alice&verb=delete&resource=clusters&since=2h"), NOW);
  assert.deepEqual(q, { directory: "/d", user: "alice", verb: "delete", resource: "clusters", since: new Date("2026-06-01T10:00:00Z") });
  assert.deepEqual(auditQuery("/d", new URLSearchParams("since=7d"), NOW).since, new Date("2026-05-25T12:00:00Z"));
  assert.deepEqual(auditQuery("/d", new URLSearchParams("since=2026-01-02T03:04:05Z"), NOW).since, new Date("2026-01-02T03:04:05Z"));
  assert.throws(() => auditQuery("/d", new URLSearchParams("since=yesterday"), NOW), /neither an RFC 3339 time nor a duration/);
});
