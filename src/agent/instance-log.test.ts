import { test } from "node:test";
import assert from "node:assert/strict";
import { lineTime, selectLines } from "./instance-log.ts";

void test("log line times: PostgreSQL's and Redis' formats; other lines have none", () => {
  assert.equal(lineTime("2026-12-06 09:00:00.123 UTC [42] LOG:  database system is ready"), Date.parse("2026-12-06T09:00:00.123Z"));
  assert.equal(lineTime("2026-12-06 09:00:00 +01 [42] LOG: x"), Date.parse("2026-12-06T08:00:00Z"));
  assert.equal(lineTime("1234:M 06 Dec 2026 09:00:01.500 * Ready to accept connections tcp"), Date.parse("2026-12-06T09:00:01.500Z"));
  assert.equal(lineTime('ts=2026-12-06T09:00:02.250Z caller=main.go:131 level=info msg="Listening on address"'), Date.parse("2026-12-06T09:00:02.250Z"));
  assert.equal(lineTime('time="2026-12-06T09:00:03Z" level=info msg="Providing metrics at 127.0.0.1:9121/metrics"'), Date.parse("2026-12-06T09:00:03Z"));
  assert.equal(lineTime("\tcontinuation of a statement"), undefined);
});

void test("selectLines: since a time (untimed lines follow the one before), then the last N", () => {
  const text = ["2026-12-06 09:00:00 UTC [1] LOG: old", "  detail of old", "2026-12-06 09:59:00 UTC [1] LOG: new", "  detail of new", "2026-12-06 09:59:30 UTC [1] LOG: newest", ""].join("\n");
  const now = Date.parse("2026-12-06T10:00:00Z");
  assert.equal(selectLines(text, {}, now), text);
  assert.equal(selectLines(text, { sinceSeconds: 120 }, now), "2026-12-06 09:59:00 UTC [1] LOG: new\n  detail of new\n2026-12-06 09:59:30 UTC [1] LOG: newest\n");
  assert.equal(selectLines(text, { tailLines: 1 }, now), "2026-12-06 09:59:30 UTC [1] LOG: newest\n");
  assert.equal(selectLines(text, { tailLines: 2, sinceSeconds: 3600 * 2 }, now), "  detail of new\n2026-12-06 09:59:30 UTC [1] LOG: newest\n");
  assert.equal(selectLines(text, { tailLines: 0 }, now), "");
});
