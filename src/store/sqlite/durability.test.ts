import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Resource } from "../../api/index.ts";
import { cluster } from "../contract/index.ts";
import { IDENTITY_CODEC } from "../object-rules.ts";
import { openDatabase } from "./database.ts";
import { openSqliteStore } from "./sqlite-store.ts";
import { SqliteLeases, type WriteTransaction } from "./sqlite-leases.ts";
import { StoreTables } from "./tables.ts";
import { Writer } from "./writer.ts";

const SYNCHRONOUS = { NORMAL: 1, FULL: 2 };

function withTables(run: (tables: StoreTables, synchronous: () => number) => Promise<void> | void): Promise<void> {
  const directory = mkdtempSync(join(tmpdir(), "holdfast-durability-"));
  const db = openDatabase(join(directory, "store.db"));
  const synchronous = (): number => Number(db.prepare("PRAGMA synchronous").get()?.["synchronous"]);
  return Promise.resolve(run(new StoreTables(db), synchronous)).finally(() => {
    db.close();
    rmSync(directory, { recursive: true, force: true });
  });
}

test("a transaction that need not be durable commits at synchronous=NORMAL, and the connection is FULL again after it", () =>
  withTables((tables, synchronous) => {
    assert.equal(synchronous(), SYNCHRONOUS.FULL);
    assert.equal(tables.transaction(synchronous), SYNCHRONOUS.FULL);
    assert.equal(tables.transaction(synchronous, { durable: false }), SYNCHRONOUS.NORMAL);
    assert.equal(synchronous(), SYNCHRONOUS.FULL);
    assert.throws(() => tables.transaction(() => assert.fail("refused"), { durable: false }), /refused/);
    assert.equal(synchronous(), SYNCHRONOUS.FULL, "FULL again after a rolled-back transaction too");
  }));

test("a lease is acquired and released durably; only its renewals may be lost to a power cut", () =>
  withTables(async (tables) => {
    const asked: { durable: boolean }[] = [];
    const write: WriteTransaction = (work, options = { durable: true }) => {
      asked.push(options);
      const commit = (): ReturnType<typeof work> => {
        const writer = new Writer(tables, IDENTITY_CODEC);
        const result = work(writer);
        tables.setResourceVersion(writer.resourceVersion);
        return result;
      };
      return Promise.resolve(tables.transaction(commit, options));
    };
    const leases = new SqliteLeases(write, tables, IDENTITY_CODEC);
    const lease = await leases.tryAcquire("controllers", "cp-1", 5000);
    assert.ok(lease);
    await leases.renew(lease);
    assert.equal((await leases.read("controllers"))?.holder, "cp-1");
    await leases.release(lease);
    assert.deepEqual(
      asked.map((options) => options.durable),
      [true, false, true],
    );
  }));

test("an update or status update asked not to be durable commits without the fsync, and is kept all the same", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "holdfast-durability-"));
  const path = join(dir, "store.db");
  try {
    const store = openSqliteStore({ path });
    const created = await store.create(cluster("beat"));
    const transactions = t.mock.method(StoreTables.prototype, "transaction");
    const beat = await store.updateStatus({ ...created, status: { phase: "Running" } }, { durable: false });
    const updating = await store.updateStatus({ ...beat, status: { phase: "Updating" } });
    await store.update({ ...updating, metadata: { ...updating.metadata, labels: { beat: "2" } } }, { durable: false });
    const options: unknown[] = transactions.mock.calls.map((call) => (call.arguments as unknown[])[1]);
    assert.deepEqual(options, [{ durable: false }, { durable: true }, { durable: false }]);
    transactions.mock.restore();
    store.close();
    const reopened = openSqliteStore({ path });
    const stored = await reopened.get<Resource & { status?: { phase?: string } }>({ kind: "Cluster", namespace: "default", name: "beat" });
    assert.ok(stored);
    assert.equal(stored.status?.phase, "Updating");
    assert.deepEqual(stored.metadata.labels, { beat: "2" });
    reopened.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
