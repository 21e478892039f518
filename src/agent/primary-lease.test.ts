import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { primaryLeaseOf, type Instance } from "../api/index.ts";
import { UnavailableError } from "../errors/index.ts";
import { openSqliteStore, type HeldLease, type Leases, type Store } from "../store/index.ts";
import { PrimaryLeases } from "./primary-lease.ts";

function instance(name: string): Instance {
  return {
    apiVersion: "holdfast.io/v1alpha1",
    kind: "Instance",
    metadata: { name, namespace: "demo", uid: `uid-${name}`, ownerReferences: [{ apiVersion: "apps.kubeblocks.io/v1", kind: "Cluster", name: "pg", uid: "cluster-uid" }] },
    spec: { engine: "postgresql", version: "15", clusterName: "pg", componentName: "postgresql", ordinal: 0, port: 20000, running: true, parameters: {}, deleteData: true, role: "primary", replication: { fenceOnExit: true } },
  };
}

/** The store's leases, with renewals that fail as a store cut off from this node would make them fail. */
function cutOff(leases: Leases): Leases & { cut: boolean } {
  const wrapped = {
    cut: false,
    tryAcquire: (name: string, holder: string, durationMs: number) => leases.tryAcquire(name, holder, durationMs),
    renew: (lease: HeldLease) => (wrapped.cut ? Promise.reject(new UnavailableError("the store does not answer")) : leases.renew(lease)),
    release: (lease: HeldLease) => leases.release(lease),
    read: (name: string) => leases.read(name),
  };
  return wrapped;
}

describe("primary leases", () => {
  let dir: string;
  let store: Store;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "holdfast-primary-lease-"));
    store = openSqliteStore({ path: join(dir, "store.db") });
  });

  after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("lets one instance of a component hold the lease; another gets it once released", async () => {
    const node1 = new PrimaryLeases({ leases: store.leases, nodeName: "node-1", onLost: () => assert.fail("not lost") });
    const node2 = new PrimaryLeases({ leases: store.leases, nodeName: "node-2", onLost: () => assert.fail("not lost") });
    const first = await node1.hold(instance("pg-postgresql-0"), 5000);
    assert.equal(first.held, true);
    assert.ok(node1.holds(instance("pg-postgresql-0")));
    const second = await node2.hold(instance("pg-postgresql-1"), 5000);
    assert.deepEqual(second, { held: false, holder: "node-1/pg-postgresql-0/uid-pg-postgresql-0" });
    await node1.release(instance("pg-postgresql-0"));
    assert.equal(await store.leases.read(primaryLeaseOf(instance("pg-postgresql-0"))), undefined);
    assert.equal((await node2.hold(instance("pg-postgresql-1"), 5000)).held, true);
    await node2.release(instance("pg-postgresql-1"));
  });

  it("two instances on one node never share the lease", async () => {
    const node = new PrimaryLeases({ leases: store.leases, nodeName: "node-1", onLost: () => assert.fail("not lost") });
    assert.equal((await node.hold(instance("pg-postgresql-0"), 5000)).held, true);
    assert.equal((await node.hold(instance("pg-postgresql-1"), 5000)).held, false);
    await node.release(instance("pg-postgresql-0"));
  });

  it("renews while the store answers, and fences before the lease can expire once it does not", async () => {
    const leases = cutOff(store.leases);
    const lost: { key: string; at: number }[] = [];
    const node = new PrimaryLeases({ leases, nodeName: "node-1", onLost: (key) => void lost.push({ key, at: performance.now() }) });
    const held = await node.hold(instance("pg-postgresql-0"), 1000);
    assert.ok(held.held);
    await sleep(1500);
    assert.equal(lost.length, 0, "renewed: still held after longer than the lease");
    assert.ok(node.holds(instance("pg-postgresql-0")));
    leases.cut = true;
    const cutAt = performance.now();
    await sleep(1200);
    const [fenced, ...more] = lost;
    assert.equal(more.length, 0, "fenced once");
    assert.ok(fenced);
    assert.equal(fenced.key, "demo/pg-postgresql-0");
    // The last renewal succeeded at most a quarter of the lease before the cut: the fence comes before 1000 ms after it.
    const after = fenced.at - cutAt;
    assert.ok(after < 1000, `fenced ${Math.round(after)} ms after the cut`);
    assert.equal(node.holds(instance("pg-postgresql-0")), false);
  });
});
