import { describe, it, test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, renameSync, writeFileSync } from "node:fs";
import { appendFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { followLog, lineTime, selectLines } from "./instance-log.ts";

void test("log line times: PostgreSQL's and Redis' formats; other lines have none", () => {
  assert.equal(lineTime("2026-12-06 09:00:00.123 UTC [42] LOG:  database system is ready"), Date.parse("2026-12-06T09:00:00.123Z"));
  assert.equal(lineTime("2026-12-06 09:00:00 +01 [42] LOG: x"), Date.parse("2026-12-06T08:00:00Z"));
  assert.equal(lineTime("1234:M 06 Dec 2026 09:00:01.500 * Ready to accept connections tcp"), Date.parse("2026-12-06T09:00:01.500Z"));
  assert.equal(lineTime('ts=2026-12-06T09:00:02.250Z caller=main.go:131 level=info msg="Listening on address"'), Date.parse("2026-12-06T09:00:02.250Z"));
  assert.equal(lineTime('time="2026-12-06T09:00:03Z" level=info msg="Providing metrics at 127.0.0.1:9121/metrics"'), Date.parse("2026-12-06T09:00:03Z"));
  assert.equal(lineTime("\tcontinuation of a statement"), undefined);
});

void test("log line times: MariaDB's error log (hour not padded) and audit log, in local time", () => {
  assert.equal(lineTime("2026-12-07  2:16:18 0 [Note] /usr/sbin/mariadbd: ready for connections."), new Date(2026, 11, 7, 2, 16, 18).getTime());
  assert.equal(lineTime("2026-12-07 14:16:18 12 [Warning] Access denied for user 'root'@'localhost'"), new Date(2026, 11, 7, 14, 16, 18).getTime());
  assert.equal(lineTime("20261207 02:16:27,vm,root,127.0.0.1,4,0,FAILED_CONNECT,,,1045"), new Date(2026, 11, 7, 2, 16, 27).getTime());
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

describe("following a log", () => {
  it("reads what was appended, and what the old file got before a rotation by size before the new file from its start", async () => {
    const directory = await mkdtemp(join(tmpdir(), "holdfast-follow-"));
    let stop = (): void => undefined;
    try {
      const file = join(directory, "audit.log");
      await writeFile(file, "old\n");
      const chunks: string[] = [];
      const follower = followLog(file, 4, (chunk) => chunks.push(chunk), 20, `${file}.1`);
      stop = () => follower.stop();
      await appendFile(file, "a\nb\n");
      await waitFor(() => chunks.join("") === "a\nb\n");
      // All at once (no poll in between): "c" is only ever read from the rotated file.
      appendFileSync(file, "c\n");
      renameSync(file, `${file}.1`);
      writeFileSync(file, "d\n");
      await waitFor(() => chunks.join("") === "a\nb\nc\nd\n");
    } finally {
      stop();
      await rm(directory, { recursive: true, force: true });
    }
  });
});

async function waitFor(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!done()) {
    assert.ok(Date.now() < deadline, "in time");
    await sleep(10);
  }
}
