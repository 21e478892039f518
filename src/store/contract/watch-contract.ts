/** The store contract, watches: resuming without gaps, live-only, filters, compaction (410 Gone), stale history. */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { Resource } from "../../api/index.ts";
import { GoneError, InputError } from "../../errors/index.ts";
import type { StorageCodec, Store, WatchEvent } from "../types.ts";
import { cluster, collect, ownedInstance, settle, summarize, until, watchFailure, type StoreHarness } from "./fixtures.ts";

async function createMany(target: Store, prefix: string, count: number): Promise<Resource[]> {
  const created: Resource[] = [];
  for (let index = 1; index <= count; index += 1) created.push(await target.create(cluster(`${prefix}-${index}`)));
  return created;
}

/** Every event has a resourceVersion exactly one above the previous: no gap, no duplicate. */
function assertContiguous(events: WatchEvent[], after: number): void {
  const versions = events.map((event) => Number(event.object.metadata.resourceVersion));
  assert.deepEqual(versions, versions.map((_, index) => after + index + 1));
}

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

/** Register the watch tests for one implementation. */
export function describeWatchContract(harness: StoreHarness): void {
  describe(`${harness.name} store contract: watches`, () => {
    let store: Store;

    beforeEach(async () => {
      store = await harness.open();
    });
    afterEach(() => harness.cleanup());

    describe(`${harness.name}: watch`, () => {
      it("resumes from a resourceVersion with exactly the later changes, then live ones", async () => {
        const created = await createMany(store, "c", 50);
        const middle = Number(created[24]?.metadata.resourceVersion);
        const watch = collect(store, { kind: "Cluster", resourceVersion: String(middle) });
        await store.update({ ...created[0]!, spec: { replicas: 4 } });
        await store.delete({ kind: "Cluster", namespace: "default", name: "c-2" });
        const events = await watch.waitFor(27);
        const expected = [...Array.from({ length: 25 }, (_, index) => `ADDED Cluster/c-${index + 26}`), "MODIFIED Cluster/c-1", "DELETED Cluster/c-2"];
        assert.deepEqual(summarize(events), expected);
        assertContiguous(events, middle);
        await settle();
        assert.equal(watch.events.length, 27);
      });

      it("has no gaps or duplicates when writes happen while the backlog is replayed", async () => {
        const created = await createMany(store, "c", 50);
        const from = created[19]?.metadata.resourceVersion ?? "";
        const writes: Promise<Resource>[] = [];
        let written = 0;
        // Each replayed event triggers a write from inside the callback, and more writes race in from outside.
        const watch = collect(store, { kind: "Cluster", resourceVersion: from }, () => {
          if (written < 10) writes.push(store.create(cluster(`inner-${(written += 1)}`)));
        });
        const outer = Array.from({ length: 5 }, (_, index) => store.create(cluster(`outer-${index + 1}`)));
        writes.push(...outer);
        await watch.waitFor(30 + 5 + 10);
        await Promise.all(writes);
        await settle();
        assert.equal(watch.events.length, 45);
        assertContiguous(watch.events, Number(from));
        const names = new Set(watch.events.map((event) => event.object.metadata.name));
        for (const name of [...Array.from({ length: 30 }, (_, index) => `c-${index + 21}`), "outer-1", "outer-5", "inner-1", "inner-10"]) assert.ok(names.has(name), name);
      });

      it("delivers asynchronously, never inside the writer's call", async () => {
        const seen: string[] = [];
        store.watch({}, (event) => seen.push(event.object.metadata.name));
        const pending = store.create(cluster("a"));
        assert.deepEqual(seen, []);
        await pending;
        await until(() => seen.length === 1);
        assert.deepEqual(seen, ["a"]);
      });

      it("watches live changes only from resourceVersion 0 or none", async () => {
        await createMany(store, "old", 3);
        const fromZero = collect(store, { resourceVersion: "0" });
        const fromNone = collect(store, {});
        await store.create(cluster("new"));
        assert.deepEqual(summarize(await fromZero.waitFor(1)), ["ADDED Cluster/new"]);
        assert.deepEqual(summarize(await fromNone.waitFor(1)), ["ADDED Cluster/new"]);
        await settle();
        assert.equal(fromZero.events.length + fromNone.events.length, 2);
      });

      it("fails with 410 Gone when the history it needs was compacted, and resumes from a later resourceVersion", async () => {
        const created = await createMany(store, "c", 30);
        const version = (index: number): string => created[index - 1]?.metadata.resourceVersion ?? "";
        await harness.compact(store, version(20));
        const gone = await watchFailure(store, { resourceVersion: version(5) });
        assert.ok(gone instanceof GoneError, `expected GoneError, got ${String(gone)}`);
        assert.equal(gone.httpStatus, 410);
        assert.match(gone.message, /too old resource version.*list again/);
        assert.ok((await watchFailure(store, { resourceVersion: version(19) })) instanceof GoneError);
        const watch = collect(store, { resourceVersion: version(20) });
        assert.deepEqual(summarize(await watch.waitFor(10)), Array.from({ length: 10 }, (_, index) => `ADDED Cluster/c-${index + 21}`));
        assert.equal(watch.error, undefined);
        assert.throws(() => store.watch({ resourceVersion: "x1" }, () => undefined), InputError);
      });

      it("filters by kind, namespace and label selector, in the backlog and live", async () => {
        const start = (await store.list("Cluster")).resourceVersion;
        await store.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "prod" } });
        const root = await store.create(cluster("match-1", { namespace: "prod", labels: { app: "pg" } }));
        await store.create(cluster("other-ns", { namespace: "dev", labels: { app: "pg" } }));
        await store.create(cluster("other-label", { namespace: "prod", labels: { app: "redis" } }));
        const labelled = ownedInstance("instance", root);
        labelled.metadata = { ...labelled.metadata, namespace: "prod", labels: { app: "pg" } };
        await store.create(labelled);
        const watch = collect(store, { kind: "Cluster", namespace: "prod", labelSelector: "app=pg", resourceVersion: "0" });
        const backlog = collect(store, { kind: "Cluster", namespace: "prod", labelSelector: "app in (pg)", resourceVersion: start });
        const everything = collect(store, { namespace: "prod", resourceVersion: start });
        await store.create(cluster("match-2", { namespace: "prod", labels: { app: "pg" } }));
        await store.create(cluster("late-other", { namespace: "prod", labels: { app: "mysql" } }));
        await store.delete({ kind: "Cluster", namespace: "prod", name: "match-1" });
        assert.deepEqual(summarize(await watch.waitFor(2)), ["ADDED Cluster/match-2", "DELETED Cluster/match-1"]);
        assert.deepEqual(summarize(await backlog.waitFor(3)), ["ADDED Cluster/match-1", "ADDED Cluster/match-2", "DELETED Cluster/match-1"]);
        const all = await everything.waitFor(7);
        assert.ok(summarize(all).includes("ADDED Instance/instance"));
        assert.ok(!summarize(all).includes("ADDED Cluster/other-ns"));
        await settle();
        assert.equal(watch.events.length, 2);
        assert.equal(backlog.events.length, 3);
        assert.throws(() => store.watch({ labelSelector: "a in (" }, () => undefined), InputError);
      });

      it("stops delivering after stop(), and survives a throwing callback", async () => {
        const errors: unknown[] = [];
        const guarded = await harness.open({ onWatchError: (error) => errors.push(error) });
        const received: string[] = [];
        guarded.watch({}, (event) => {
          received.push(event.object.metadata.name);
          throw new Error("callback failed");
        });
        const stopped = collect(guarded, {});
        await guarded.create(cluster("a"));
        await stopped.waitFor(1);
        stopped.stop();
        await guarded.create(cluster("b"));
        await until(() => received.length === 2);
        await settle();
        assert.deepEqual(received, ["a", "b"]);
        assert.equal(errors.length, 2);
        assert.deepEqual(summarize(stopped.events), ["ADDED Cluster/a"]);
        assert.ok(await guarded.get({ kind: "Cluster", namespace: "default", name: "b" }));
      });

      it("gives each watcher its own copy of an event", async () => {
        const first = collect(store, {}, (event) => {
          event.object.metadata.name = "mutated";
        });
        const second = collect(store, {});
        await store.create(cluster("a"));
        await first.waitFor(1);
        assert.equal((await second.waitFor(1))[0]?.object.metadata.name, "a");
        assert.equal((await store.get({ kind: "Cluster", namespace: "default", name: "a" }))?.metadata.name, "a");
      });
    });

    describe(`${harness.name}: stale stored forms`, () => {
      let codec: ReturnType<typeof formatCodec>;
      let stale: Store;

      beforeEach(async () => {
        codec = formatCodec();
        stale = await harness.open({ codec });
      });

      it("an unchanged update is a no-op, unless the stored form is stale: then it is written again", async () => {
        const created = await stale.create(cluster("a"));
        assert.equal((await stale.update(created)).metadata.resourceVersion, created.metadata.resourceVersion);
        codec.format = "f2";
        const watch = collect(stale, { resourceVersion: created.metadata.resourceVersion ?? "" });
        const rewritten = await stale.update(created);
        assert.equal(Number(rewritten.metadata.resourceVersion), Number(created.metadata.resourceVersion) + 1);
        assert.equal(rewritten.metadata.generation, 1, "a rewrite is not a spec change");
        assert.deepEqual(summarize(await watch.waitFor(1)), ["MODIFIED Cluster/a"]);
        assert.equal((await stale.update(rewritten)).metadata.resourceVersion, rewritten.metadata.resourceVersion, "current again");
      });

      it("purges history through the newest stale change; older watches get Gone, newer ones resume", async () => {
        const before = await stale.purgeStaleHistory();
        assert.equal(before.purged, 0);
        const a = await stale.create(cluster("a"));
        const b = await stale.create(cluster("b"));
        codec.format = "f2";
        await stale.create(cluster("c"));
        const rewrittenA = await stale.update(a);
        // The changes of a and b hold stale forms; c and a rewritten do not. History is cut at b.
        assert.deepEqual(await stale.purgeStaleHistory(), { purged: 2, compactedThrough: b.metadata.resourceVersion });
        assert.ok((await watchFailure(stale, { resourceVersion: a.metadata.resourceVersion ?? "" })) instanceof GoneError);
        const resumed = collect(stale, { resourceVersion: b.metadata.resourceVersion ?? "" });
        assert.deepEqual(summarize(await resumed.waitFor(2)), ["ADDED Cluster/c", "MODIFIED Cluster/a"]);
        assert.equal(resumed.events[1]?.object.metadata.resourceVersion, rewrittenA.metadata.resourceVersion);
        assert.ok(await stale.get({ kind: "Cluster", namespace: "default", name: "b" }), "objects are never purged");
        assert.deepEqual(await stale.purgeStaleHistory(), { purged: 0, compactedThrough: b.metadata.resourceVersion });
      });

      it("purges nothing when no change is stale, and scrubbing keeps every object", async () => {
        const created = await stale.create(cluster("a"));
        assert.equal((await stale.purgeStaleHistory()).purged, 0);
        const watch = collect(stale, { resourceVersion: String(Number(created.metadata.resourceVersion) - 1) });
        assert.deepEqual(summarize(await watch.waitFor(1)), ["ADDED Cluster/a"]);
        await stale.scrubDeletedData();
        assert.equal((await stale.list("Cluster")).items.length, 1);
      });
    });
  });
}
