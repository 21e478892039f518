/** The store contract, object semantics: create, get, update, status, delete, finalizers, owners, list, dry run. */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { Resource } from "../../api/index.ts";
import { AlreadyExistsError, ConflictError, InvalidError, NotFoundError } from "../../errors/index.ts";
import type { Store } from "../types.ts";
import { cluster, collect, ownedInstance, settle, summarize, until, type StoreHarness } from "./fixtures.ts";

const ref = (name: string, kind = "Cluster") => ({ kind, namespace: "default", name });

/** Register the object-semantics tests for one implementation. */
export function describeObjectContract(harness: StoreHarness): void {
  describe(`${harness.name} store contract: objects`, () => {
    let store: Store;
    const version = async (): Promise<number> => Number((await store.list("Cluster")).resourceVersion);

    beforeEach(async () => {
      store = await harness.open();
    });
    afterEach(() => harness.cleanup());

    describe(`${harness.name}: create and get`, () => {
      it("assigns server-owned metadata and ignores what the caller sent for it", async () => {
        const base = await version();
        const input = cluster("a");
        input.metadata = { ...input.metadata, uid: "forged", resourceVersion: "999", generation: 7, creationTimestamp: "1970-01-01T00:00:00Z", deletionTimestamp: "1970-01-01T00:00:00Z" };
        input.status = { phase: "Creating" };
        const created = await store.create(input);
        assert.match(created.metadata.uid ?? "", /^[0-9a-f-]{36}$/);
        assert.equal(created.metadata.resourceVersion, String(base + 1));
        assert.equal(created.metadata.generation, 1);
        assert.equal(created.metadata.deletionTimestamp, undefined);
        assert.notEqual(created.metadata.creationTimestamp, "1970-01-01T00:00:00Z");
        assert.deepEqual(created.status, { phase: "Creating" });
        assert.deepEqual(await store.get(ref("a")), created);
      });

      it("refuses an existing name, and reports missing objects", async () => {
        await store.create(cluster("a"));
        await assert.rejects(store.create(cluster("a")), AlreadyExistsError);
        assert.equal(await store.get(ref("missing")), undefined);
        await assert.rejects(store.update(cluster("missing")), NotFoundError);
        await assert.rejects(store.updateStatus(cluster("missing")), NotFoundError);
        await assert.rejects(store.delete(ref("missing")), NotFoundError);
      });

      it("checks the namespace against the kind's scope", async () => {
        const noNamespace: Resource = { apiVersion: "apps.kubeblocks.io/v1", kind: "Cluster", metadata: { name: "x" }, spec: {} };
        await assert.rejects(store.create(noNamespace), (error: unknown) => error instanceof InvalidError && error.causes[0]?.field === "metadata.namespace");
        const namespaced: Resource = { apiVersion: "v1", kind: "Namespace", metadata: { name: "prod", namespace: "default" } };
        await assert.rejects(store.create(namespaced), (error: unknown) => error instanceof InvalidError && error.causes[0]?.field === "metadata.namespace");
        const created = await store.create<Resource>({ apiVersion: "v1", kind: "Namespace", metadata: { name: "prod" } });
        assert.equal(created.metadata.namespace, undefined);
        assert.equal((await store.get({ kind: "Namespace", name: "prod" }))?.metadata.uid, created.metadata.uid);
      });

      it("a watch from an empty list's resourceVersion misses nothing", async () => {
        const empty = await store.list("Cluster");
        assert.deepEqual(empty.items, []);
        const watch = collect(store, { kind: "Cluster", resourceVersion: empty.resourceVersion });
        await store.create(cluster("first"));
        assert.deepEqual(summarize(await watch.waitFor(1)), ["ADDED Cluster/first"]);
      });

      it("keeps one resourceVersion counter across kinds", async () => {
        const base = await version();
        const a = await store.create(cluster("a"));
        const ns = await store.create<Resource>({ apiVersion: "v1", kind: "Namespace", metadata: { name: "prod" } });
        const b = await store.update({ ...a, spec: { replicas: 3 } });
        assert.deepEqual([a, ns, b].map((object) => object.metadata.resourceVersion), [base + 1, base + 2, base + 3].map(String));
      });

      it("hands out copies: mutating a result or an input does not change what is stored", async () => {
        const input = cluster("a", { labels: { app: "pg" } });
        const created = await store.create(input);
        (input.metadata.labels ?? {})["app"] = "changed-input";
        (created.spec as { replicas: number }).replicas = 99;
        const read = await store.get(ref("a"));
        assert.ok(read);
        read.metadata.name = "other";
        const again = await store.get(ref("a"));
        assert.ok(again);
        assert.deepEqual(again.spec, { replicas: 1 });
        assert.equal(again.metadata.labels?.["app"], "pg");
        assert.equal(again.metadata.name, "a");
      });
    });

    describe(`${harness.name}: update`, () => {
      it("refuses a stale resourceVersion with a 409 that says to re-read and retry", async () => {
        const created = await store.create(cluster("a"));
        await store.update({ ...created, spec: { replicas: 2 } });
        await assert.rejects(store.update({ ...created, spec: { replicas: 3 } }), (error: unknown) => {
          assert.ok(error instanceof ConflictError);
          assert.equal(error.httpStatus, 409);
          assert.match(error.message, /re-read/);
          return true;
        });
        await assert.rejects(store.updateStatus({ ...created, status: { phase: "Running" } }), ConflictError);
        assert.deepEqual((await store.get(ref("a")))?.spec, { replicas: 2 });
      });

      it("lets exactly one of two concurrent writers of the same resourceVersion win", async () => {
        const created = await store.create(cluster("a"));
        const results = await Promise.allSettled([2, 3, 4].map((replicas) => store.update({ ...created, spec: { replicas } })));
        assert.equal(results.filter((result) => result.status === "fulfilled").length, 1);
        assert.ok(results.filter((result) => result.status === "rejected").every((result) => result.reason instanceof ConflictError));
      });

      it("without a resourceVersion is unconditional", async () => {
        const created = await store.create(cluster("a"));
        await store.update({ ...created, spec: { replicas: 2 } });
        const withoutVersion = { ...created, metadata: { ...created.metadata } };
        delete withoutVersion.metadata.resourceVersion;
        const updated = await store.update({ ...withoutVersion, spec: { replicas: 5 } });
        assert.deepEqual(updated.spec, { replicas: 5 });
      });

      it("bumps generation for spec changes only, not for labels, annotations or status", async () => {
        const created = await store.create(cluster("a"));
        const labelled = await store.update({ ...created, metadata: { ...created.metadata, labels: { a: "b" }, annotations: { note: "x" } } });
        assert.equal(labelled.metadata.generation, 1);
        assert.notEqual(labelled.metadata.resourceVersion, created.metadata.resourceVersion);
        const status = await store.updateStatus({ ...labelled, status: { phase: "Running" } });
        assert.equal(status.metadata.generation, 1);
        const spec = await store.update({ ...status, spec: { replicas: 3 } });
        assert.equal(spec.metadata.generation, 2);
        const topLevel = await store.update({ ...spec, extra: { field: true } });
        assert.equal(topLevel.metadata.generation, 3);
      });

      it("does not write when nothing changed", async () => {
        const created = await store.create(cluster("a", { labels: { x: "1" } }));
        const same = await store.update({ ...created, metadata: { ...created.metadata } });
        assert.equal(same.metadata.resourceVersion, created.metadata.resourceVersion);
        assert.equal(await version(), Number(created.metadata.resourceVersion));
      });

      it("keeps server-owned metadata and status, and refuses a uid from another object", async () => {
        const created = await store.create({ ...cluster("a"), status: { phase: "Running" } });
        const updated = await store.update({
          ...created,
          metadata: { ...created.metadata, creationTimestamp: "2000-01-01T00:00:00Z", generation: 40, deletionTimestamp: "2000-01-01T00:00:00Z" },
          status: { phase: "Failed" },
        });
        assert.equal(updated.metadata.creationTimestamp, created.metadata.creationTimestamp);
        assert.equal(updated.metadata.generation, 1);
        assert.equal(updated.metadata.deletionTimestamp, undefined);
        assert.deepEqual(updated.status, { phase: "Running" });
        await assert.rejects(store.update({ ...updated, metadata: { ...updated.metadata, uid: "another" } }), ConflictError);
      });

      it("updateStatus changes only status", async () => {
        const created = await store.create(cluster("a", { labels: { a: "b" } }));
        const updated = await store.updateStatus({ ...created, metadata: { ...created.metadata, labels: {} }, spec: { replicas: 9 }, status: { phase: "Running" } });
        assert.deepEqual(updated.spec, { replicas: 1 });
        assert.deepEqual(updated.metadata.labels, { a: "b" });
        assert.deepEqual(updated.status, { phase: "Running" });
        assert.equal(updated.metadata.generation, 1);
      });
    });

    describe(`${harness.name}: delete and finalizers`, () => {
      it("removes an object without finalizers and returns it", async () => {
        await store.create(cluster("a"));
        const deleted = await store.delete(ref("a"));
        assert.equal(deleted?.metadata.name, "a");
        assert.equal(await store.get(ref("a")), undefined);
      });

      it("holds an object with finalizers until the last one is removed", async () => {
        const created = await store.create({ ...cluster("a"), metadata: { ...cluster("a").metadata, finalizers: ["x/one", "x/two"] } });
        const watch = collect(store, { kind: "Cluster", resourceVersion: created.metadata.resourceVersion ?? "" });
        const marked = await store.delete(ref("a"));
        assert.ok(marked?.metadata.deletionTimestamp);
        const again = await store.delete(ref("a"));
        assert.equal(again?.metadata.deletionTimestamp, marked.metadata.deletionTimestamp);
        assert.equal(again.metadata.resourceVersion, marked.metadata.resourceVersion);
        await assert.rejects(
          store.update({ ...marked, metadata: { ...marked.metadata, finalizers: ["x/one", "x/two", "x/three"] } }),
          (error: unknown) => error instanceof InvalidError && error.causes[0]?.field === "metadata.finalizers",
        );
        const one = await store.update({ ...marked, metadata: { ...marked.metadata, finalizers: ["x/two"] } });
        assert.ok(await store.get(ref("a")));
        await store.update({ ...one, metadata: { ...one.metadata, finalizers: [] } });
        assert.equal(await store.get(ref("a")), undefined);
        assert.deepEqual(summarize(await watch.waitFor(3)), ["MODIFIED Cluster/a", "MODIFIED Cluster/a", "DELETED Cluster/a"]);
      });

      it("refuses a delete whose preconditions do not match", async () => {
        const created = await store.create(cluster("a"));
        await assert.rejects(store.delete(ref("a"), { uid: "other" }), ConflictError);
        await assert.rejects(store.delete(ref("a"), { resourceVersion: "77" }), ConflictError);
        assert.ok(await store.get(ref("a")));
        const uid = created.metadata.uid ?? "";
        const resourceVersion = created.metadata.resourceVersion ?? "";
        assert.ok(await store.delete(ref("a"), { uid, resourceVersion }));
      });
    });

    describe(`${harness.name}: owner references`, () => {
      const instances = async (): Promise<string[]> => (await store.list("Instance")).items.map((item) => item.metadata.name);

      it("cascades removal down three levels", async () => {
        const root = await store.create(cluster("root"));
        const child = await store.create(ownedInstance("child", root));
        await store.create(ownedInstance("grandchild", child));
        await store.create(ownedInstance("unrelated", await store.create(cluster("other"))));
        const watch = collect(store, { resourceVersion: (await store.list("Cluster")).resourceVersion });
        await store.delete(ref("root"));
        assert.deepEqual(await instances(), ["unrelated"]);
        assert.deepEqual(summarize(await watch.waitFor(3)), ["DELETED Cluster/root", "DELETED Instance/child", "DELETED Instance/grandchild"]);
      });

      it("waits for a dependent's finalizers before cascading further", async () => {
        const root = await store.create(cluster("root"));
        const middle = await store.create(ownedInstance("middle", root, ["holdfast.io/cleanup"]));
        await store.create(ownedInstance("leaf", middle));
        await store.delete(ref("root"));
        assert.equal(await store.get(ref("root")), undefined);
        const terminating = await store.get(ref("middle", "Instance"));
        assert.ok(terminating?.metadata.deletionTimestamp);
        assert.deepEqual(await instances(), ["leaf", "middle"]);
        await store.update({ ...terminating, metadata: { ...terminating.metadata, finalizers: [] } });
        assert.deepEqual(await instances(), []);
      });

      it("keeps a dependent while another owner remains", async () => {
        const first = await store.create(cluster("first"));
        const second = await store.create(cluster("second"));
        const shared = ownedInstance("shared", first);
        shared.metadata.ownerReferences = [...(shared.metadata.ownerReferences ?? []), ...(ownedInstance("x", second).metadata.ownerReferences ?? [])];
        await store.create(shared);
        await store.delete(ref("first"));
        assert.deepEqual(await instances(), ["shared"]);
        await store.delete(ref("second"));
        assert.deepEqual(await instances(), []);
      });

      it("follows owner references an update adds or removes", async () => {
        const owner = await store.create(cluster("owner"));
        const adopted = await store.create({ ...ownedInstance("adopted", owner), metadata: { name: "adopted", namespace: "default" } });
        const released = await store.create(ownedInstance("released", owner));
        await store.update({ ...adopted, metadata: { ...adopted.metadata, ownerReferences: ownedInstance("x", owner).metadata.ownerReferences ?? [] } });
        await store.update({ ...released, metadata: { ...released.metadata, ownerReferences: [] } });
        await store.delete(ref("owner"));
        assert.deepEqual(await instances(), ["released"]);
      });
    });

    describe(`${harness.name}: list`, () => {
      it("sorts by namespace and name, filters by namespace and label selector, and reports the resourceVersion", async () => {
        await store.create(cluster("b", { namespace: "ns2", labels: { app: "pg", tier: "db" } }));
        await store.create(cluster("c", { namespace: "ns1", labels: { app: "redis" } }));
        await store.create(cluster("a", { namespace: "ns2", labels: { app: "pg" } }));
        const last = await store.create(cluster("a", { namespace: "ns1" }));
        const names = (items: Resource[]) => items.map((item) => `${item.metadata.namespace ?? ""}/${item.metadata.name}`);
        const all = await store.list("Cluster");
        assert.deepEqual(names(all.items), ["ns1/a", "ns1/c", "ns2/a", "ns2/b"]);
        assert.equal(all.resourceVersion, last.metadata.resourceVersion);
        assert.deepEqual(names((await store.list("Cluster", { namespace: "ns2" })).items), ["ns2/a", "ns2/b"]);
        assert.deepEqual(names((await store.list("Cluster", { labelSelector: "app=pg" })).items), ["ns2/a", "ns2/b"]);
        assert.deepEqual(names((await store.list("Cluster", { labelSelector: "app in (pg,redis),!tier" })).items), ["ns1/c", "ns2/a"]);
        assert.deepEqual(names((await store.list("Cluster", { labelSelector: "app!=pg" })).items), ["ns1/a", "ns1/c"]);
        assert.deepEqual((await store.list("Instance")).items, []);
      });

      it("lists more objects than one page holds, all of them at one resourceVersion", async () => {
        await Promise.all(Array.from({ length: 1200 }, (_, index) => store.create(cluster(`c-${String(index).padStart(4, "0")}`))));
        const all = await store.list("Cluster");
        assert.equal(all.items.length, 1200);
        assert.equal(all.items[1199]?.metadata.name, "c-1199");
        assert.equal(all.resourceVersion, String(Math.max(...all.items.map((item) => Number(item.metadata.resourceVersion)))));
      });
    });

    describe(`${harness.name}: dry run`, () => {
      it("runs every check of create, update, updateStatus and delete, returns the result, and changes nothing", async () => {
        const events: string[] = [];
        const watch = store.watch({ kind: "Cluster" }, (event) => events.push(`${event.type} ${event.object.metadata.name}`));
        const preview = await store.create(cluster("dry"), { dryRun: true });
        assert.ok(preview.metadata.uid !== undefined && preview.metadata.creationTimestamp !== undefined);
        assert.equal(await store.get(ref("dry")), undefined);
        const live = await store.create(cluster("live"));
        await assert.rejects(store.create(cluster("live"), { dryRun: true }), AlreadyExistsError);
        const changed = await store.update({ ...live, spec: { replicas: 3 } }, { dryRun: true });
        assert.equal(changed.metadata.generation, 2);
        await assert.rejects(store.update({ ...live, metadata: { ...live.metadata, resourceVersion: "1" }, spec: { replicas: 3 } }, { dryRun: true }), ConflictError);
        await store.updateStatus({ ...live, status: { phase: "Running" } }, { dryRun: true });
        await store.delete(ref("live"), { dryRun: true });
        const after = await store.get(ref("live"));
        assert.deepEqual(after, live, "the live object is untouched");
        const next = await store.create(cluster("next"));
        assert.equal(Number(next.metadata.resourceVersion), Number(live.metadata.resourceVersion) + 1, "no resourceVersion was used up");
        await until(() => events.length >= 2);
        await settle();
        watch.stop();
        assert.deepEqual(events, ["ADDED live", "ADDED next"], "no watch saw a dry run");
      });
    });
  });
}
