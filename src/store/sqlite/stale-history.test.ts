import { afterEach, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Resource } from "../../api/index.ts";
import { GoneError } from "../../errors/index.ts";
import type { StorageCodec, Store } from "../types.ts";
import { cluster, collect, summarize, tempStore, type TempStore } from "./test-fixtures.ts";

/** A codec that stamps each stored form with the current "format"; forms of an older format are stale. */
function formatCodec(): StorageCodec & { format: string } {
  const codec = {
    format: "f1",
    encode: (object: Resource): Resource => ({ ...object, storedFormat: codec.format }),
    decode: (object: Resource): Resource => {
      const { storedFormat: _format, ...rest } = object;
      return rest;
    },
    isStale: (stored: Resource): boolean => stored["storedFormat"] !== codec.format,
  };
  return codec;
}

let temp: TempStore;
let codec: ReturnType<typeof formatCodec>;
let store: Store;

beforeEach(() => {
  temp = tempStore();
  codec = formatCodec();
  store = temp.open({ codec });
});
afterEach(() => temp.cleanup());

describe("stale stored forms", () => {
  it("an unchanged update is a no-op, unless the stored form is stale: then it is written again", async () => {
    const created = await store.create(cluster("a"));
    assert.equal((await store.update(created)).metadata.resourceVersion, created.metadata.resourceVersion);
    codec.format = "f2";
    const watch = collect(store, { resourceVersion: created.metadata.resourceVersion ?? "" });
    const rewritten = await store.update(created);
    assert.equal(Number(rewritten.metadata.resourceVersion), Number(created.metadata.resourceVersion) + 1);
    assert.equal(rewritten.metadata.generation, 1, "a rewrite is not a spec change");
    assert.deepEqual(summarize(await watch.waitFor(1)), ["MODIFIED Cluster/a"]);
    assert.equal((await store.update(rewritten)).metadata.resourceVersion, rewritten.metadata.resourceVersion, "current again");
  });

  it("purges history through the newest stale change; older watches get Gone, newer ones resume", async () => {
    const a = await store.create(cluster("a"));
    await store.create(cluster("b"));
    codec.format = "f2";
    const c = await store.create(cluster("c"));
    const rewrittenA = await store.update(a);
    // Changes 2 (a) and 3 (b) hold stale forms; 4 (c) and 5 (a rewritten) do not. History is cut at 3.
    assert.deepEqual(await store.purgeStaleHistory(), { purged: 2, compactedThrough: "3" });
    assert.throws(() => store.watch({ resourceVersion: "2" }, () => undefined), GoneError);
    const resumed = collect(store, { resourceVersion: "3" });
    assert.deepEqual(summarize(await resumed.waitFor(2)), ["ADDED Cluster/c", "MODIFIED Cluster/a"]);
    assert.equal(resumed.events[1]?.object.metadata.resourceVersion, rewrittenA.metadata.resourceVersion);
    assert.equal(c.metadata.resourceVersion, "4");
    assert.ok(await store.get({ kind: "Cluster", namespace: "default", name: "b" }), "objects are never purged");
    assert.deepEqual(await store.purgeStaleHistory(), { purged: 0, compactedThrough: "3" });
  });

  it("purges nothing when no change is stale, and scrubbing keeps every object", async () => {
    await store.create(cluster("a"));
    assert.deepEqual(await store.purgeStaleHistory(), { purged: 0, compactedThrough: "0" });
    await store.scrubDeletedData();
    assert.equal((await store.list("Cluster")).items.length, 1);
    collect(store, { resourceVersion: "1" }).stop();
  });
});
