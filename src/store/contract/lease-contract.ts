/** The store contract, leases: one holder at a time, takeover only after expiry, fenced writes. */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { LostLeaseError, UnavailableError } from "../../errors/index.ts";
import type { HeldLease } from "../leases.ts";
import type { Store } from "../types.ts";
import { cluster, settle, type StoreHarness } from "./fixtures.ts";

/** Lease duration for the tests: etcd grants leases of whole seconds, two at least. */
const DURATION_MS = 2000;

/** Register the lease tests for one implementation. */
export function describeLeaseContract(harness: StoreHarness): void {
  describe(`${harness.name} store contract: leases`, () => {
    let store: Store;

    beforeEach(async () => {
      store = await harness.open();
    });
    afterEach(() => harness.cleanup());

    const acquireWhenFree = async (name: string, holder: string, timeoutMs: number): Promise<HeldLease> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const lease = await store.leases.tryAcquire(name, holder, DURATION_MS);
        if (lease !== undefined) return lease;
        if (Date.now() > deadline) throw new Error(`${holder} could not take lease ${name} in ${timeoutMs} ms`);
        await settle(50);
      }
    };

    describe(`${harness.name}: leases`, () => {
      it("lets exactly one of two competing holders win, shows it as a Lease object, and keeps it while renewed", async () => {
        const [a, b] = await Promise.all([store.leases.tryAcquire("leader", "node-a", DURATION_MS), store.leases.tryAcquire("leader", "node-b", DURATION_MS)]);
        assert.equal([a, b].filter((lease) => lease !== undefined).length, 1);
        const winner = (a ?? b)!;
        const object = await store.get({ kind: "Lease", namespace: "holdfast-system", name: "leader" });
        assert.ok(object);
        assert.equal(object.apiVersion, "coordination.k8s.io/v1");
        const spec = object.spec as { holderIdentity: string; leaseDurationSeconds: number };
        assert.deepEqual({ holder: spec.holderIdentity, seconds: spec.leaseDurationSeconds }, { holder: winner.holder, seconds: 2 });
        const record = await store.leases.read("leader");
        assert.ok(record);
        assert.equal(record.holder, winner.holder);
        assert.equal(record.transitions, 0);
        // Renewed every half duration, it is never free, even well past one duration.
        let held = winner;
        for (let round = 0; round < 4; round++) {
          await settle(DURATION_MS / 2);
          held = await store.leases.renew(held);
          assert.equal(await store.leases.tryAcquire("leader", "node-c", DURATION_MS), undefined);
        }
        assert.equal(held.token, winner.token);
      });

      it("lets the loser take over only after expiry, and then fences the old holder's writes: they fail and write nothing", async () => {
        const old = await store.leases.tryAcquire("leader", "node-a", DURATION_MS);
        assert.ok(old);
        const fenced = store.fenced(old);
        const written = await fenced.create(cluster("while-held"));
        assert.ok(written.metadata.uid);
        const started = Date.now();
        assert.equal(await store.leases.tryAcquire("leader", "node-b", DURATION_MS), undefined);
        const taken = await acquireWhenFree("leader", "node-b", 10_000);
        const waited = Date.now() - started;
        assert.ok(waited >= DURATION_MS - 200, `taken over after ${waited} ms, before the lease duration`);
        assert.notEqual(taken.token, old.token);
        assert.equal((await store.leases.read("leader"))?.transitions, 1);
        await assert.rejects(fenced.create(cluster("after-loss")), (error: unknown) => {
          assert.ok(error instanceof LostLeaseError);
          assert.ok(error instanceof UnavailableError);
          assert.equal(error.httpStatus, 503);
          return true;
        });
        await assert.rejects(fenced.update({ ...written, spec: { replicas: 7 } }), LostLeaseError);
        await assert.rejects(fenced.updateStatus({ ...written, status: { phase: "Failed" } }), LostLeaseError);
        await assert.rejects(fenced.delete({ kind: "Cluster", namespace: "default", name: "while-held" }), LostLeaseError);
        await assert.rejects(store.leases.renew(old), LostLeaseError);
        assert.equal(await store.get({ kind: "Cluster", namespace: "default", name: "after-loss" }), undefined);
        assert.deepEqual((await store.get({ kind: "Cluster", namespace: "default", name: "while-held" }))?.spec, { replicas: 1 });
        const current = store.fenced(taken);
        assert.ok(await current.create(cluster("new-leader")));
        current.close();
        assert.ok(await store.get({ kind: "Cluster", namespace: "default", name: "new-leader" }), "closing a view leaves the store open");
      });

      it("counts a lease unrenewed for its duration as free, whatever the store still keeps (etcd keeps the key longer)", async () => {
        const old = await store.leases.tryAcquire("leader", "node-a", DURATION_MS);
        assert.ok(old);
        await settle(DURATION_MS / 2);
        const halfway = await store.leases.read("leader");
        assert.equal(halfway?.holder, "node-a", "held within its duration");
        const left = halfway.expiresInMs ?? assert.fail("read says when it expires");
        assert.ok(left > 0 && left <= DURATION_MS / 2 + 200, `expires in ${left} ms, about half the duration`);
        assert.equal(await store.leases.tryAcquire("leader", "node-b", DURATION_MS), undefined);
        await settle(DURATION_MS / 2 + 100);
        assert.equal(await store.leases.read("leader"), undefined, "nobody holds it once its duration passed without a renewal");
        const started = Date.now();
        const taken = await acquireWhenFree("leader", "node-b", 10_000);
        assert.ok(Date.now() - started < 500, `taken ${Date.now() - started} ms after it expired, not when the store dropped it`);
        assert.equal((await store.leases.read("leader"))?.holder, "node-b");
        await assert.rejects(store.leases.renew(old), LostLeaseError);
        await store.leases.release(taken);
      });

      it("lets another holder acquire at once after a release", async () => {
        const held = await store.leases.tryAcquire("leader", "node-a", DURATION_MS);
        assert.ok(held);
        await store.leases.release(held);
        assert.equal(await store.leases.read("leader"), undefined);
        const next = await store.leases.tryAcquire("leader", "node-b", DURATION_MS);
        assert.ok(next, "free at once after a release");
        await store.leases.release(held);
        assert.equal((await store.leases.read("leader"))?.holder, "node-b", "releasing an old acquisition does not touch the new one");
        await assert.rejects(store.fenced(held).create(cluster("late")), LostLeaseError);
      });

      it("lets the same holder take its lease over at once (its node restarted), ending the earlier acquisition", async () => {
        const before = await store.leases.tryAcquire("leader", "node-a", DURATION_MS);
        assert.ok(before);
        assert.equal(await store.leases.tryAcquire("leader", "node-b", DURATION_MS), undefined, "another holder still waits");
        const after = await store.leases.tryAcquire("leader", "node-a", DURATION_MS);
        assert.ok(after, "the same holder does not wait for expiry");
        assert.notEqual(after.token, before.token);
        await assert.rejects(store.leases.renew(before), LostLeaseError);
        await assert.rejects(store.fenced(before).create(cluster("stale")), LostLeaseError);
        await store.leases.renew(after);
        assert.equal((await store.leases.read("leader"))?.holder, "node-a");
        await store.leases.release(after);
      });
    });
  });
}
