import { afterEach, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Resource } from "../../api/index.ts";
import { GoneError, InputError } from "../../errors/index.ts";
import type { Store, WatchEvent } from "../types.ts";
import { cluster, collect, ownedInstance, summarize, tempStore, type TempStore } from "./test-fixtures.ts";

let temp: TempStore;
let store: Store;

beforeEach(() => {
  temp = tempStore();
  store = temp.open();
});
afterEach(() => temp.cleanup());

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

describe("watch", () => {
  it("resumes from a resourceVersion with exactly the later changes, then live ones", async () => {
    const created = await createMany(store, "c", 50);
    const middle = created[24]?.metadata.resourceVersion ?? "";
    assert.equal(middle, "26");
    const watch = collect(store, { kind: "Cluster", resourceVersion: middle });
    await store.update({ ...created[0]!, spec: { replicas: 4 } });
    await store.delete({ kind: "Cluster", namespace: "default", name: "c-2" });
    const events = await watch.waitFor(27);
    const expected = [...Array.from({ length: 25 }, (_, index) => `ADDED Cluster/c-${index + 26}`), "MODIFIED Cluster/c-1", "DELETED Cluster/c-2"];
    assert.deepEqual(summarize(events), expected);
    assertContiguous(events, 26);
    await new Promise((resolve) => setTimeout(resolve, 20));
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
    writes.push(...Array.from({ length: 5 }, (_, index) => store.create(cluster(`outer-${index + 1}`))));
    const events = await watch.waitFor(30 + 5 + 10);
    await Promise.all(writes);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(watch.events.length, 45);
    assertContiguous(watch.events, Number(from));
    const names = events.map((event) => event.object.metadata.name);
    assert.deepEqual(names.slice(0, 35), [...Array.from({ length: 30 }, (_, index) => `c-${index + 21}`), "outer-1", "outer-2", "outer-3", "outer-4", "outer-5"]);
    assert.deepEqual(names.slice(35), Array.from({ length: 10 }, (_, index) => `inner-${index + 1}`));
  });

  it("delivers asynchronously, never inside the writer's call", async () => {
    const seen: string[] = [];
    store.watch({}, (event) => seen.push(event.object.metadata.name));
    const pending = store.create(cluster("a"));
    assert.deepEqual(seen, []);
    await pending;
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(seen, ["a"]);
  });

  it("watches live changes only from resourceVersion 0 or none", async () => {
    await createMany(store, "old", 3);
    const fromZero = collect(store, { resourceVersion: "0" });
    const fromNone = collect(store, {});
    await store.create(cluster("new"));
    assert.deepEqual(summarize(await fromZero.waitFor(1)), ["ADDED Cluster/new"]);
    assert.deepEqual(summarize(await fromNone.waitFor(1)), ["ADDED Cluster/new"]);
  });

  it("throws GoneError when the history it needs was compacted", async () => {
    store.close();
    const small = temp.open({ historyLimit: 10 });
    await createMany(small, "c", 30);
    assert.throws(() => small.watch({ resourceVersion: "5" }, () => undefined), (error: unknown) => {
      assert.ok(error instanceof GoneError);
      assert.equal(error.httpStatus, 410);
      assert.match(error.message, /too old resource version.*list again/);
      return true;
    });
    assert.throws(() => small.watch({ resourceVersion: "20" }, () => undefined), GoneError);
    const watch = collect(small, { resourceVersion: "21" });
    assert.deepEqual(summarize(await watch.waitFor(10)), Array.from({ length: 10 }, (_, index) => `ADDED Cluster/c-${index + 21}`));
    assert.throws(() => small.watch({ resourceVersion: "x1" }, () => undefined), InputError);
  });

  it("filters by kind, namespace and label selector, in the backlog and live", async () => {
    await store.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "prod" } });
    const root = await store.create(cluster("match-1", { namespace: "prod", labels: { app: "pg" } }));
    await store.create(cluster("other-ns", { namespace: "dev", labels: { app: "pg" } }));
    await store.create(cluster("other-label", { namespace: "prod", labels: { app: "redis" } }));
    const labelled = ownedInstance("instance", root);
    labelled.metadata = { ...labelled.metadata, namespace: "prod", labels: { app: "pg" } };
    await store.create(labelled);
    const watch = collect(store, { kind: "Cluster", namespace: "prod", labelSelector: "app=pg", resourceVersion: "0" });
    const backlog = collect(store, { kind: "Cluster", namespace: "prod", labelSelector: "app in (pg)", resourceVersion: "1" });
    await store.create(cluster("match-2", { namespace: "prod", labels: { app: "pg" } }));
    await store.create(cluster("late-other", { namespace: "prod", labels: { app: "mysql" } }));
    await store.delete({ kind: "Cluster", namespace: "prod", name: "match-1" });
    assert.deepEqual(summarize(await watch.waitFor(2)), ["ADDED Cluster/match-2", "DELETED Cluster/match-1"]);
    assert.deepEqual(summarize(await backlog.waitFor(3)), ["ADDED Cluster/match-1", "ADDED Cluster/match-2", "DELETED Cluster/match-1"]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(watch.events.length, 2);
    assert.equal(backlog.events.length, 3);
    assert.throws(() => store.watch({ labelSelector: "a in (" }, () => undefined), InputError);
  });

  it("stops delivering after stop(), and survives a throwing callback", async () => {
    const errors: unknown[] = [];
    store.close();
    const guarded = temp.open({ onWatchError: (error) => errors.push(error) });
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
    await new Promise((resolve) => setTimeout(resolve, 20));
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
