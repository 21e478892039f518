import { afterEach, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { GoneError, UnavailableError } from "../../errors/index.ts";
import { cluster, collect, describeStoreContract, ownedInstance, summarize, type StoreHarness } from "../contract/index.ts";
import type { Store } from "../types.ts";
import { openSqliteStore, type SqliteStoreOptions } from "./sqlite-store.ts";

/** A temporary directory with a store file path in it, removed by `cleanup`. */
interface TempStore {
  dir: string;
  path: string;
  open(options?: Omit<SqliteStoreOptions, "path">): Store;
  cleanup(): void;
}

/** Make a temporary store location; every store opened through it is closed by `cleanup`. */
function tempStore(): TempStore {
  const dir = mkdtempSync(join(tmpdir(), "holdfast-store-"));
  const path = join(dir, "store.db");
  const opened: Store[] = [];
  return {
    dir,
    path,
    open(options = {}) {
      const store = openSqliteStore({ ...options, path });
      opened.push(store);
      return store;
    },
    cleanup() {
      for (const store of opened) store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The contract suite's way into the embedded store: a new file per store; compaction edits the change table. */
function sqliteHarness(): StoreHarness {
  const temps = new Map<Store, TempStore>();
  return {
    name: "sqlite",
    open(options = {}) {
      const temp = tempStore();
      const store = temp.open(options.onWatchError === undefined ? { ...options } : { ...options, onWatchError: options.onWatchError });
      temps.set(store, temp);
      return Promise.resolve(store);
    },
    compact(store, resourceVersion) {
      const temp = temps.get(store);
      if (temp === undefined) throw new Error("not a store of this harness");
      const db = new DatabaseSync(temp.path);
      try {
        db.prepare("DELETE FROM changes WHERE resource_version <= ?").run(Number(resourceVersion));
        db.prepare("UPDATE meta SET value = ? WHERE key = 'compacted_through'").run(resourceVersion);
      } finally {
        db.close();
      }
      return Promise.resolve();
    },
    cleanup() {
      for (const temp of temps.values()) temp.cleanup();
      temps.clear();
      return Promise.resolve();
    },
  };
}

describeStoreContract(sqliteHarness());

let temp: TempStore;
let store: Store;

beforeEach(() => {
  temp = tempStore();
  store = temp.open();
});
afterEach(() => temp.cleanup());

const ref = (name: string, kind = "Cluster") => ({ kind, namespace: "default", name });

describe("the embedded store", () => {
  it("starts an empty store at resourceVersion 1, so a watch from an empty list misses nothing", async () => {
    const empty = await store.list("Cluster");
    assert.equal(empty.resourceVersion, "1");
    const created = await store.create(cluster("first"));
    assert.equal(created.metadata.resourceVersion, "2");
  });

  it("throws GoneError at once when the history it needs went past historyLimit", async () => {
    store.close();
    const small = temp.open({ historyLimit: 10 });
    for (let index = 1; index <= 30; index++) await small.create(cluster(`c-${index}`));
    assert.throws(() => small.watch({ resourceVersion: "5" }, () => undefined), GoneError);
    assert.throws(() => small.watch({ resourceVersion: "20" }, () => undefined), GoneError);
    const watch = collect(small, { resourceVersion: "21" });
    assert.deepEqual(summarize(await watch.waitFor(10)), Array.from({ length: 10 }, (_, index) => `ADDED Cluster/c-${index + 21}`));
  });
});

describe("the embedded store file", () => {
  it("survives a restart with its data and its counter", async () => {
    await store.create(cluster("a"));
    const b = await store.create(cluster("b"));
    store.close();
    await assert.rejects(store.get(ref("a")), UnavailableError);
    const reopened = temp.open();
    assert.deepEqual(await reopened.get(ref("b")), b);
    const c = await reopened.create(cluster("c"));
    assert.equal(c.metadata.resourceVersion, "4");
    const watch = collect(reopened, { resourceVersion: "2" });
    assert.deepEqual(summarize(await watch.waitFor(2)), ["ADDED Cluster/b", "ADDED Cluster/c"]);
  });

  it("is in WAL mode, with synchronous FULL commits, and readable only by its owner", async () => {
    await store.create(cluster("a"));
    assert.equal(statSync(temp.path).mode & 0o777, 0o600);
    assert.equal(statSync(`${temp.path}-wal`).mode & 0o777, 0o600);
    const raw = new DatabaseSync(temp.path, { readOnly: true });
    try {
      assert.equal(raw.prepare("PRAGMA journal_mode").get()?.["journal_mode"], "wal");
    } finally {
      raw.close();
    }
  });

  it("makes each write one transaction: a failing write leaves nothing behind", async () => {
    store.close();
    const failing = temp.open({
      codec: {
        encode: (object) => {
          if (object.metadata.name === "poison" && object.metadata.deletionTimestamp !== undefined) throw new Error("encode failed");
          return object;
        },
        decode: (object) => object,
      },
    });
    const root = await failing.create(cluster("root"));
    await failing.create(ownedInstance("child", root));
    await failing.create(ownedInstance("poison", root, ["x/y"]));
    // Deleting root would remove child and then mark poison, which fails: nothing of it may stay.
    await assert.rejects(failing.delete(ref("root")));
    assert.ok(await failing.get(ref("root")));
    assert.ok(await failing.get(ref("child", "Instance")));
    assert.equal((await failing.list("Cluster")).resourceVersion, "4");
  });
});

