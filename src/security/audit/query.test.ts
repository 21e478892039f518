import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { AuditLog } from "./audit-log.ts";
import { appendFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { readAuditRecords, readNewestAuditEvents, type AuditQuery } from "./query.ts";
import { auditFixture, sampleEvent, type AuditFixture } from "./test-fixtures.ts";

let fx: AuditFixture;
before(async () => {
  fx = auditFixture();
  const log = await AuditLog.open({ ...fx.options, checkpointEvery: 3 });
  await log.append(sampleEvent(1, { requestReceivedTimestamp: "2025-01-01T00:00:00.000Z" }));
  await log.append(sampleEvent(2, { verb: "delete", requestReceivedTimestamp: "2025-02-01T00:00:00.000Z" }));
  await log.append(sampleEvent(3, { user: { username: "bob", groups: [] }, requestReceivedTimestamp: "2025-03-01T00:00:00.000Z" }));
  const secretRef = { resource: "secrets", namespace: "default", name: "s", apiGroup: "", apiVersion: "v1" };
  await log.append(sampleEvent(4, { verb: "get", objectRef: secretRef, requestReceivedTimestamp: "2025-04-01T00:00:00.000Z" }));
  await log.close();
});
after(() => fx.remove());

async function names(query: Omit<AuditQuery, "directory">): Promise<string[]> {
  const out: string[] = [];
  for await (const record of readAuditRecords({ directory: fx.options.directory, ...query })) {
    out.push(record.type === "event" ? (record.objectRef?.name ?? "?") : `checkpoint@${record.seq}`);
  }
  return out;
}

describe("readAuditRecords", () => {
  it("returns everything, checkpoints included, in order without filters", async () => {
    assert.deepEqual(await names({}), ["pg-1", "pg-2", "pg-3", "checkpoint@4", "s", "checkpoint@6"]);
  });

  it("filters by user, verb, resource and time, combined", async () => {
    assert.deepEqual(await names({ user: "bob" }), ["pg-3"]);
    assert.deepEqual(await names({ verb: "delete" }), ["pg-2"]);
    assert.deepEqual(await names({ resource: "secrets" }), ["s"]);
    assert.deepEqual(await names({ since: new Date("2025-02-15T00:00:00Z") }), ["pg-3", "s"]);
    assert.deepEqual(await names({ user: "alice", since: new Date("2025-02-01T00:00:00Z") }), ["pg-2", "s"]);
  });

  it("reads an empty log from a directory that does not exist", async () => {
    const out = [];
    for await (const record of readAuditRecords({ directory: `${fx.root}/nowhere` })) out.push(record);
    assert.deepEqual(out, []);
  });
});

/** Every event matching `query`, by reading the whole log forwards: what the newest-first reader must agree with. */
async function fullScan(query: AuditQuery): Promise<string[]> {
  const out: string[] = [];
  for await (const record of readAuditRecords(query)) if (record.type === "event") out.push(record.auditID);
  return out;
}

describe("readNewestAuditEvents", () => {
  let big: AuditFixture;
  let size = 0;
  const OLD = 3_000;
  const RECENT = 300;

  before(async () => {
    big = auditFixture();
    const log = await AuditLog.open({ ...big.options, checkpointEvery: 500 });
    const old = "2025-01-01T00:00:00.000Z";
    const appends = [];
    for (let i = 0; i < OLD; i += 1) {
      const user = { username: i % 10 === 0 ? "bob" : "alice", groups: [] };
      appends.push(log.append(sampleEvent(i, { user, requestReceivedTimestamp: old, stageTimestamp: old })));
    }
    await Promise.all(appends);
    // One record longer than the reader's 64 KiB chunk, so a line spans chunks.
    await log.append(sampleEvent(OLD, { requestObject: { metadata: { name: "long" }, spec: { note: "x".repeat(150_000) } }, requestReceivedTimestamp: old, stageTimestamp: old }));
    await Promise.all(Array.from({ length: RECENT }, (_, i) => log.append(sampleEvent(OLD + 1 + i, { user: { username: i % 10 === 0 ? "bob" : "alice", groups: [] } }))));
    await log.close();
    size = (await stat(join(big.options.directory, "audit.log"))).size;
  });
  after(() => big.remove());

  it("agrees with a full scan for the newest events, with and without filters", async () => {
    const directory = big.options.directory;
    for (const query of [{ directory }, { directory, user: "bob" }, { directory, verb: "get" }, { directory, since: new Date("2024-12-31T00:00:00Z") }]) {
      const all = await fullScan(query);
      for (const limit of [1, 7, 1000, 100_000]) {
        const { events } = await readNewestAuditEvents(query, limit);
        assert.deepEqual(
          events.map((e) => e.auditID),
          all.slice(-limit),
          `${JSON.stringify(query)} limit ${limit}`,
        );
      }
    }
  });

  it("reads only the end of the log for the newest events", async () => {
    const { events, bytesRead } = await readNewestAuditEvents({ directory: big.options.directory }, 10);
    assert.equal(events.length, 10);
    assert.ok(size > 2_000_000, `the log is ${size} bytes`);
    assert.ok(bytesRead <= 64 * 1024, `read ${bytesRead} of ${size} bytes for 10 events`);
  });

  it("stops at the start of a time window instead of reading back to the beginning", async () => {
    const since = new Date("2025-06-01T00:00:00Z");
    const { events, bytesRead } = await readNewestAuditEvents({ directory: big.options.directory, since }, 100_000);
    assert.equal(events.length, RECENT);
    assert.ok(bytesRead < size / 4, `read ${bytesRead} of ${size} bytes for the last ${RECENT} events`);
  });

  it("skips a torn last line, and a missing log has no events", async () => {
    const fx2 = auditFixture();
    try {
      const log = await AuditLog.open(fx2.options);
      await log.append(sampleEvent(1));
      await log.append(sampleEvent(2));
      await log.close();
      await appendFile(join(fx2.options.directory, "audit.log"), '{"hash":"abc","kind":"Ev');
      const { events } = await readNewestAuditEvents({ directory: fx2.options.directory }, 10);
      assert.deepEqual(events.map((e) => e.objectRef?.name), ["pg-1", "pg-2"]);
      assert.deepEqual(await readNewestAuditEvents({ directory: join(fx2.root, "nowhere") }, 10), { events: [], bytesRead: 0 });
    } finally {
      fx2.remove();
    }
  });
});
