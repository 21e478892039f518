/**
 * A node's signal feed over a real audit log and a real embedded store: what no rule reads is never written, what a
 * rule reads is written as one SecuritySignal `flushMs` after the first of it was kept, and `stop()` writes the rest.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setImmediate as tick, setTimeout as sleep } from "node:timers/promises";
import { DETECTION_NAMESPACE, type SecuritySignal } from "../api/index.ts";
import { AuditLog, type AuditEventInput } from "../security/index.ts";
import { openSqliteStore, type Store } from "../store/index.ts";
import { silentLogger } from "../util/index.ts";
import { SignalFeed } from "./signal-feed.ts";

const FLUSH_MS = 100;
let dir: string;
let store: Store;
let audit: AuditLog;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "holdfast-signal-feed-"));
  store = openSqliteStore({ path: join(dir, "store.db") });
  await store.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: DETECTION_NAMESPACE } });
  audit = await AuditLog.open({ directory: join(dir, "audit"), signingKeyFile: join(dir, "audit.key"), hmacKeyFile: join(dir, "audit.hmac") });
});

after(async () => {
  await audit.close();
  store.close();
  await rm(dir, { recursive: true, force: true });
});

function event(username: string, code: number): AuditEventInput {
  return {
    verb: "get",
    user: { username, groups: ["system:authenticated"] },
    sourceIPs: ["127.0.0.1"],
    userAgent: "test",
    objectRef: { resource: "namespaces", apiGroup: "", name: "default" },
    responseStatus: { code },
    requestReceivedTimestamp: new Date().toISOString(),
  };
}

async function signals(): Promise<SecuritySignal[]> {
  return (await store.list<SecuritySignal>("SecuritySignal", { namespace: DETECTION_NAMESPACE })).items;
}

void test("writes nothing for events no rule reads, one batch flushMs after the first kept event, the rest at stop", async () => {
  const feed = new SignalFeed({ store, audit, node: "n1", logger: silentLogger(), adminGroups: ["system:masters"], flushMs: FLUSH_MS, watchdogMs: 60_000 });
  await feed.start();
  for (let i = 0; i < 20; i++) await audit.append(event("alice", 200));
  await sleep(FLUSH_MS * 3);
  assert.equal((await signals()).length, 0, "allowed requests are not forwarded");

  await audit.append(event("mallory", 403));
  await audit.append(event("mallory", 403));
  await sleep(FLUSH_MS / 4);
  assert.equal((await signals()).length, 0, "the batch waits flushMs for more");
  await sleep(FLUSH_MS * 3);
  const first = await signals();
  assert.equal(first.length, 1);
  assert.deepEqual(
    first[0]?.spec.events.map((e) => [e.username, e.code]),
    [["mallory", 403], ["mallory", 403]],
  );

  await audit.append(event("eve", 403));
  await tick(); // the log tells its listeners on a later turn
  await feed.stop();
  const all = await signals();
  assert.equal(all.length, 2, "stop writes what is pending");
  assert.ok(all.some((s) => s.spec.events.some((e) => e.username === "eve")));
});
