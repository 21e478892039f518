import { test } from "node:test";
import assert from "node:assert/strict";
import { lifetimeSeconds, parseSpan, sinceInstant } from "./durations.ts";

test("spans take s, m, h, d, w and y units, alone or summed", () => {
  assert.equal(parseSpan("90m"), 90 * 60_000);
  assert.equal(parseSpan("12h"), 12 * 3_600_000);
  assert.equal(parseSpan("30d"), 30 * 86_400_000);
  assert.equal(parseSpan("2w"), 14 * 86_400_000);
  assert.equal(parseSpan("1y"), 365 * 86_400_000);
  assert.equal(parseSpan("1d12h"), 36 * 3_600_000);
  for (const bad of ["", "30", "d", "30x", "1.5d", "-1d", "30d ", " 30d", "1d-2h", "1Y"]) assert.equal(parseSpan(bad), undefined, bad);
});

test("token lifetimes are whole seconds; bad ones are usage errors that show the format", () => {
  assert.equal(lifetimeSeconds("30d", "token create"), 2_592_000);
  assert.equal(lifetimeSeconds("1y", "token create"), 31_536_000);
  assert.equal(lifetimeSeconds("90m", "token create"), 5400);
  assert.throws(() => lifetimeSeconds("30", "token create"), { name: "UsageError", message: /such as 90m, 12h, 30d or 1y/ });
  assert.throws(() => lifetimeSeconds("0d", "token create"), { name: "UsageError", message: /at least 1s/ });
});

test("--since is a span back from now or an RFC 3339 time, sent as an instant", () => {
  const now = new Date("2025-06-01T12:00:00.000Z");
  assert.equal(sinceInstant("1h", now, "audit list"), "2025-06-01T11:00:00.000Z");
  assert.equal(sinceInstant("7d", now, "audit list"), "2025-05-25T12:00:00.000Z");
  assert.equal(sinceInstant("2025-05-31T08:30:00Z", now, "audit list"), "2025-05-31T08:30:00.000Z");
  assert.equal(sinceInstant("2025-05-31T10:30:00.250+02:00", now, "audit list"), "2025-05-31T08:30:00.250Z");
  for (const bad of ["yesterday", "2025-05-31", "2025-05-31T08:30:00", "2025-13-40T08:30:00Z", "1.5h"]) {
    assert.throws(() => sinceInstant(bad, now, "audit list"), { name: "UsageError", message: /invalid --since/ }, bad);
  }
});
