import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { AuditLog } from "./audit-log.ts";
import { readAuditRecords, type AuditQuery } from "./query.ts";
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
