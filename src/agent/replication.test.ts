import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Instance, InstanceStatus, Secret } from "../api/index.ts";
import { createPostgresqlEngine } from "../engines/index.ts";
import { openSqliteStore, type Store } from "../store/index.ts";
import { desiredRole, fencesOnExit, lookUpUpstream, mayRun, readReplicationCredentials, roleChanged } from "./replication.ts";

function instance(ordinal: number, spec: Partial<Instance["spec"]> = {}, status: InstanceStatus = {}): Instance {
  return {
    apiVersion: "holdfast.io/v1alpha1",
    kind: "Instance",
    metadata: { name: `pg-postgresql-${ordinal}`, namespace: "demo" },
    spec: { engine: "postgresql", version: "16.4", clusterName: "pg", componentName: "postgresql", ordinal, port: 20000 + ordinal, running: true, parameters: {}, deleteData: true, ...spec },
    status,
  };
}

describe("instance controller: replication", () => {
  let dir: string;
  let store: Store;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "holdfast-replication-"));
    store = openSqliteStore({ path: join(dir, "store.db") });
    await store.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "demo" } });
  });

  after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a replica waits for its upstream to run as primary, and never starts without an upstream", async () => {
    const replica = instance(1, { role: "secondary", replication: { upstream: "pg-postgresql-0" } });
    assert.deepEqual(await lookUpUpstream(store, replica), { kind: "waiting", message: "waiting for primary pg-postgresql-0, which does not exist" });
    const primary = await store.create(instance(0, { role: "primary", replication: {} }));
    await store.updateStatus({ ...primary, status: { phase: "Starting", ready: false } });
    assert.equal((await lookUpUpstream(store, replica)).kind, "waiting", "a primary still starting is not cloned from");
    const current = await store.get<Instance>({ kind: "Instance", namespace: "demo", name: "pg-postgresql-0" });
    await store.updateStatus({ ...current!, status: { phase: "Running", ready: true, role: "secondary" } });
    const standby = await lookUpUpstream(store, replica);
    assert.ok(standby.kind === "waiting" && /it is Running, secondary/.test(standby.message), "an upstream that is itself a replica is not used");
    const again = await store.get<Instance>({ kind: "Instance", namespace: "demo", name: "pg-postgresql-0" });
    await store.updateStatus({ ...again!, status: { phase: "Running", ready: true, role: "primary" } });
    const ready = await lookUpUpstream(store, replica);
    assert.deepEqual(ready, { kind: "ready", name: "pg-postgresql-0", host: "127.0.0.1", port: 20000 }, "no status.host yet: loopback");
    assert.deepEqual(desiredRole(ready), { role: "secondary", upstream: { host: "127.0.0.1", port: 20000 } });
    const placed = await store.get<Instance>({ kind: "Instance", namespace: "demo", name: "pg-postgresql-0" });
    await store.updateStatus({ ...placed!, status: { ...placed!.status, host: "127.0.30.1" } });
    assert.deepEqual(desiredRole(await lookUpUpstream(store, replica)), { role: "secondary", upstream: { host: "127.0.30.1", port: 20000 } }, "the upstream's node address, as its agent wrote it");
    const orphan = await lookUpUpstream(store, instance(2, { role: "secondary", replication: {} }));
    assert.equal(orphan.kind, "waiting", "a replica without an upstream would start as a primary");
    assert.deepEqual(await lookUpUpstream(store, instance(0, { role: "primary", replication: {} })), { kind: "none" });
    assert.deepEqual(desiredRole({ kind: "none" }), { role: "primary" });
  });

  it("fencing and fence-on-exit come from the spec; a changed role is probed at once", () => {
    assert.equal(mayRun(instance(0, { replication: { fenced: true } })), false);
    assert.equal(mayRun(instance(0, { running: false })), false);
    assert.equal(mayRun(instance(0, { replication: {} })), true);
    assert.equal(fencesOnExit(instance(0, { replication: { fenceOnExit: true } })), true);
    assert.equal(roleChanged(instance(0, { role: "primary", replication: {} }, { role: "secondary" })), true);
    assert.equal(roleChanged(instance(0, { role: "primary" }, { role: "secondary" })), false, "outside replication roles are not chased");
  });

  it("reads the replication account from its Secret, next to the administrator", async () => {
    const replication = createPostgresqlEngine().replication!;
    const secret: Secret = { apiVersion: "v1", kind: "Secret", type: "Opaque", metadata: { name: "pg-postgresql-account-kbreplicator", namespace: "demo" }, data: { username: Buffer.from("kbreplicator").toString("base64"), password: Buffer.from("s3cret-Repl1cat0r").toString("base64") } };
    const admin = { username: "postgres", password: "admin-pw" };
    await assert.rejects(readReplicationCredentials(store, instance(1), replication, [admin]), /account secret pg-postgresql-account-kbreplicator is missing/);
    await store.create(secret);
    assert.deepEqual(await readReplicationCredentials(store, instance(1), replication, [admin]), { admin, replication: { username: "kbreplicator", password: "s3cret-Repl1cat0r" } });
  });
});
