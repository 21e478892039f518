import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Cluster, Instance, InstanceReplicationState } from "../../api/index.ts";
import { createPostgresqlEngine } from "../../engines/index.ts";
import { openSqliteStore, type Store } from "../../store/index.ts";
import type { EngineLookup } from "../cluster/index.ts";
import { ClusterEndpoints, wantedEndpoints } from "./endpoints.ts";
import { memberOf } from "./member-view.ts";
import { haSettings } from "./settings.ts";
import { synchronousFailoverBlock } from "./synchronous-plan.ts";
import { stepTransition, type Transition } from "./transition.ts";

const engine = createPostgresqlEngine();
const replication = engine.replication ?? assert.fail("postgresql has a replication capability");
const NAMES = [0, 1, 2].map((i) => `pg-postgresql-${i}`);

function recordIn(cluster: Cluster): NonNullable<NonNullable<Cluster["status"]>["replication"]>[string] | undefined {
  return cluster.status?.replication?.["postgresql"];
}

/** The node agents' side, played by the test: what each would write to an Instance's status. */
async function report(store: Store, name: string, changes: Partial<NonNullable<Instance["status"]>>): Promise<void> {
  const current = (await store.get<Instance>({ kind: "Instance", namespace: "demo", name })) ?? assert.fail(`${name} exists`);
  await store.updateStatus<Instance>({ ...current, status: { ...current.status, observedGeneration: current.metadata.generation, ...changes } });
}

/** What the cluster's read-write endpoint records: targets, their addresses, hold. */
function readWriteRoute(cluster: Cluster): unknown[] {
  const readWrite = cluster.status?.endpoints?.find((e) => e.access === "ReadWrite") ?? assert.fail("a read-write endpoint");
  return [readWrite.targets, readWrite.addresses, readWrite.hold];
}

/** The endpoints as the ha controller keeps them, over ports already recorded, with events into `events`. */
function endpointsOf(store: Store, events: string[]): ClusterEndpoints {
  const recorder = { record: (_o: unknown, _t: unknown, reason: string) => Promise.resolve(void events.push(reason)) };
  return new ClusterEndpoints({ store, events: recorder, allocate: () => Promise.reject(new Error("the ports are recorded")) });
}

function seen(role: "primary" | "secondary", received: string): InstanceReplicationState {
  return { role, timeline: 1, received, applied: received, observedAt: new Date().toISOString(), ...(role === "secondary" ? { streamingFrom: 20000 } : {}) };
}

/** What the old primary's agent last reported: its process runs but stopped answering (the default), or it exited and is held. */
const UNANSWERING: Partial<NonNullable<Instance["status"]>> = { phase: "Running", ready: false, pid: 4240 };

/** A 3-member cluster failing over from its primary (ordinal 0, reporting `primaryStatus`) to ordinal 1. */
async function seed(store: Store, annotations?: Record<string, string>, primaryStatus = UNANSWERING): Promise<void> {
  await store.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "demo" } });
  const cluster = await store.create<Cluster>({ apiVersion: "apps.kubeblocks.io/v1", kind: "Cluster", metadata: { name: "pg", namespace: "demo", ...(annotations === undefined ? {} : { annotations }) }, spec: { terminationPolicy: "Delete", componentSpecs: [{ name: "postgresql", replicas: 3 }] } });
  const startedAt = new Date().toISOString();
  const roleChange = { reason: "Failover" as const, step: "Fencing" as const, from: NAMES[0] ?? "", to: NAMES[1] ?? "", result: "InProgress" as const, startedAt };
  const recorded = wantedEndpoints(cluster, "postgresql").map((e, i) => ({ ...e, port: 30000 + i, targets: [NAMES[0] ?? ""], addresses: ["127.0.0.1:20000"] }));
  await store.updateStatus<Cluster>({ ...cluster, status: { replication: { postgresql: { currentPrimary: NAMES[0], targetPrimary: NAMES[1], roleChange } }, endpoints: recorded } });
  for (const [ordinal, name] of NAMES.entries()) {
    const primary = ordinal === 0;
    await store.create<Instance>({
      apiVersion: "holdfast.io/v1alpha1",
      kind: "Instance",
      metadata: { name, namespace: "demo" },
      spec: { engine: "postgresql", version: "16", clusterName: "pg", componentName: "postgresql", ordinal, port: 20000 + ordinal, running: true, parameters: {}, deleteData: true, role: primary ? "primary" : "secondary", replication: primary ? { fenceOnExit: true } : { upstream: NAMES[0] } },
    });
  }
  await report(store, NAMES[0] ?? "", primaryStatus);
  for (const name of NAMES.slice(1)) await report(store, name, { phase: "Running", ready: true, pid: 4242, role: "secondary", replicationState: seen("secondary", "0/3000000") });
}

async function instanceIn(store: Store, name: string | undefined): Promise<Instance> {
  return (await store.get<Instance>({ kind: "Instance", namespace: "demo", name: name ?? "" })) ?? assert.fail(`${name} exists`);
}

/** One pass, as the ha controller (restarted or not) would make it from what is stored. */
async function passOn(store: Store, o: { endpoints: ClusterEndpoints; events: string[]; failoverBlock?: Transition["failoverBlock"]; primaryLease?: Transition["primaryLease"]; leadingSinceMs?: number }): Promise<Cluster> {
  const cluster = (await store.get<Cluster>({ kind: "Cluster", namespace: "demo", name: "pg" })) ?? assert.fail("cluster exists");
  const instances = (await store.list<Instance>("Instance", { namespace: "demo" })).items;
  const t: Transition = {
    cluster,
    component: "postgresql",
    engine,
    replication,
    services: { store, engines: {} as EngineLookup, events: { record: (_o, _t, reason) => Promise.resolve(void o.events.push(reason)) } },
    endpoints: o.endpoints,
    settings: haSettings(cluster),
    members: instances.sort((a, b) => a.spec.ordinal - b.spec.ordinal).map(memberOf),
    nowMs: Date.now(),
    fenceOnExitAfter: true,
    ...(o.failoverBlock === undefined ? {} : { failoverBlock: o.failoverBlock }),
    ...(o.primaryLease === undefined ? {} : { primaryLease: o.primaryLease }),
    ...(o.leadingSinceMs === undefined ? {} : { leadingSinceMs: o.leadingSinceMs }),
  };
  const record = cluster.status?.replication?.["postgresql"];
  await stepTransition(t, record?.currentPrimary ?? "", record?.targetPrimary ?? "");
  return (await store.get<Cluster>({ kind: "Cluster", namespace: "demo", name: "pg" })) ?? assert.fail("cluster exists");
}

describe("role change steps (Fencing → CatchingUp → Promoting → Routing)", () => {
  let dir: string;
  let store: Store;
  const events: string[] = [];
  let endpoints: ClusterEndpoints;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "holdfast-transition-"));
    store = openSqliteStore({ path: join(dir, "store.db") });
    await seed(store);
    endpoints = endpointsOf(store, events);
  });

  after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const pass = (): Promise<Cluster> => passOn(store, { endpoints, events });

  const instance = (name: string | undefined): Promise<Instance> => instanceIn(store, name);

  it("fences the old primary and waits for its node agent to confirm it stopped; the read-write endpoint holds new connections", async () => {
    const cluster = await pass();
    assert.equal(recordIn(cluster)?.roleChange?.step, "Fencing");
    assert.deepEqual(cluster.status?.endpoints?.map((e) => [e.name, e.targets, e.addresses, e.hold]), [
      ["pg-postgresql", [], [], true],
      ["pg-postgresql-ro", [NAMES[0]], ["127.0.0.1:20000"], undefined],
    ]);
    const old = await instance(NAMES[0]);
    assert.deepEqual(old.spec.replication, { fenced: true }, "fenced, and no longer only fencing on exit");
    assert.equal((await instance(NAMES[1])).spec.role, "secondary", "nothing is promoted before the fence is confirmed");
    assert.equal(recordIn(await pass())?.roleChange?.step, "Fencing", "still waiting: no sleep, another pass later");
  });

  it("once confirmed, asks the replicas for probes taken after the stop, and promotes none on older reports", async () => {
    await report(store, NAMES[0] ?? "", { phase: "Stopped", ready: false, pid: undefined, replicationState: { observedAt: new Date().toISOString() } });
    const cluster = await pass();
    const fencedAt = recordIn(cluster)?.roleChange?.fencedAt;
    assert.equal(recordIn(cluster)?.roleChange?.step, "CatchingUp");
    assert.ok(fencedAt !== undefined);
    for (const name of NAMES.slice(1)) assert.equal((await instance(name)).spec.replication?.observeAfter, fencedAt);
    assert.equal((await instance(NAMES[1])).spec.role, "secondary");
  });

  it("with fresh reports, promotes the most advanced replica (a retarget), and only that one", async () => {
    await report(store, NAMES[1] ?? "", { replicationState: seen("secondary", "0/3000000") });
    await report(store, NAMES[2] ?? "", { replicationState: seen("secondary", "0/3000100") });
    const cluster = await pass();
    const record = recordIn(cluster);
    assert.equal(record?.targetPrimary, NAMES[2]);
    assert.equal(record?.roleChange?.step, "Promoting");
    assert.deepEqual([(await instance(NAMES[1])).spec.role, (await instance(NAMES[2])).spec.role], ["secondary", "primary"]);
    assert.ok(events.includes("FailoverRetarget"));
    const other = await instance(NAMES[1]);
    assert.equal(other.spec.replication?.upstream, NAMES[2], "the other replica is named the target's replica at once (its agent follows once the target runs as primary)");
    assert.equal(other.spec.replication?.observeAfter, record.roleChange.fencedAt, "and keeps probing closely");
    assert.equal((await instance(NAMES[0])).spec.replication?.upstream, undefined, "the old primary is left fenced, named nobody's replica yet");
  });

  it("goes back to Fencing instead of promoting while the old primary is not confirmed stopped", async () => {
    await report(store, NAMES[0] ?? "", { phase: "Running", pid: 4243, ready: true });
    assert.equal(recordIn(await pass())?.roleChange?.step, "Fencing");
    await report(store, NAMES[0] ?? "", { phase: "Stopped", pid: undefined, ready: false });
  });

  it("resumes from the recorded step (a restarted control plane): positions are taken again after the new stop", async () => {
    assert.equal(recordIn(await pass())?.roleChange?.step, "CatchingUp");
    await report(store, NAMES[1] ?? "", { replicationState: seen("secondary", "0/3000000") });
    await report(store, NAMES[2] ?? "", { replicationState: seen("secondary", "0/3000100") });
    const cluster = await pass();
    assert.equal(recordIn(cluster)?.roleChange?.step, "Promoting");
    assert.notEqual(recordIn(cluster)?.currentPrimary, NAMES[2], "not before the agent says it is primary");
  });

  it("finishes once the node agent reports the promotion: routed, recorded, the old primary still fenced", async () => {
    await report(store, NAMES[2] ?? "", { role: "primary", replicationState: seen("primary", "0/3000100") });
    let cluster = await pass();
    for (let i = 0; i < 2 && recordIn(cluster)?.roleChange?.result === "InProgress"; i++) cluster = await pass();
    const record = recordIn(cluster) ?? assert.fail("recorded");
    assert.deepEqual([record.currentPrimary, record.roleChange?.result, record.roleChange?.step], [NAMES[2], "Succeeded", undefined]);
    assert.deepEqual(readWriteRoute(cluster), [[NAMES[2]], ["127.0.0.1:20002"], undefined], "every node's agent sends new connections to the new primary");
    assert.equal((await instance(NAMES[0])).spec.replication?.fenced, true, "the old primary stays fenced until the steady state makes it a replica");
  });
});

describe("a primary its node agent holds stopped after it exited", () => {
  let dir: string;
  let store: Store;
  const events: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "holdfast-transition-"));
    store = openSqliteStore({ path: join(dir, "store.db") });
    const heldSince = new Date().toISOString();
    await seed(store, undefined, { phase: "Stopped", ready: false, replicationState: { heldSince, observedAt: heldSince } });
  });

  after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("counts as stopped at once: fenced in its spec, and the change goes on without waiting for the agent to confirm", async () => {
    const cluster = await passOn(store, { endpoints: endpointsOf(store, events), events });
    assert.equal(recordIn(cluster)?.roleChange?.step, "CatchingUp");
    assert.deepEqual((await instanceIn(store, NAMES[0])).spec.replication, { fenced: true });
  });

  it("still counts as stopped in Promoting, before its agent has acknowledged the fence", async () => {
    for (const name of NAMES.slice(1)) await report(store, name, { replicationState: seen("secondary", "0/3000000") });
    const cluster = await passOn(store, { endpoints: endpointsOf(store, events), events });
    assert.equal(recordIn(cluster)?.roleChange?.step, "Promoting");
    assert.equal((await instanceIn(store, recordIn(cluster)?.targetPrimary)).spec.role, "primary");
  });

  it("is waited for again once a restart after the exit was asked (its agent may start it)", async () => {
    const old = await instanceIn(store, NAMES[0]);
    const heldSince = old.status?.replicationState?.heldSince ?? assert.fail("held");
    await store.update<Instance>({ ...old, spec: { ...old.spec, replication: { fenceOnExit: true, restartAfterExit: heldSince } } });
    const cluster = await passOn(store, { endpoints: endpointsOf(store, events), events });
    assert.equal(recordIn(cluster)?.roleChange?.step, "Fencing");
  });
});

describe("a switchover checkpoints the primary before it holds and stops anything", () => {
  let dir: string;
  let store: Store;
  const events: string[] = [];

  const switchoverFrom = async (startedAt: string): Promise<void> => {
    const cluster = (await store.get<Cluster>({ kind: "Cluster", namespace: "demo", name: "pg" })) ?? assert.fail("cluster exists");
    const record = recordIn(cluster) ?? assert.fail("recorded");
    const roleChange = { ...(record.roleChange ?? assert.fail("a role change")), reason: "Switchover" as const, startedAt };
    await store.updateStatus<Cluster>({ ...cluster, status: { ...cluster.status, replication: { postgresql: { ...record, roleChange } } } });
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "holdfast-transition-"));
    store = openSqliteStore({ path: join(dir, "store.db") });
    await seed(store, undefined, { phase: "Running", ready: true, pid: 4240, role: "primary", replicationState: seen("primary", "0/3000000") });
    await switchoverFrom(new Date().toISOString());
  });

  after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("asks the primary's agent for a checkpoint, and neither holds the endpoint nor fences until it is reported", async () => {
    const cluster = await passOn(store, { endpoints: endpointsOf(store, events), events });
    const startedAt = recordIn(cluster)?.roleChange?.startedAt;
    assert.equal((await instanceIn(store, NAMES[0])).spec.replication?.checkpointFor, startedAt);
    assert.equal((await instanceIn(store, NAMES[0])).spec.replication?.fenced, undefined, "still serving");
    assert.deepEqual(readWriteRoute(cluster), [[NAMES[0]], ["127.0.0.1:20000"], undefined], "the endpoint still sends connections to the primary");
    await passOn(store, { endpoints: endpointsOf(store, events), events });
    assert.equal((await instanceIn(store, NAMES[0])).spec.replication?.fenced, undefined, "a second pass still waits");
  });

  it("once the checkpoint is reported, holds the endpoint and fences the primary (the request goes with the fence)", async () => {
    const old = await instanceIn(store, NAMES[0]);
    await report(store, NAMES[0] ?? "", { replicationState: { ...old.status?.replicationState, checkpointed: old.spec.replication?.checkpointFor } });
    const cluster = await passOn(store, { endpoints: endpointsOf(store, events), events });
    assert.equal(readWriteRoute(cluster)[2], true, "held");
    assert.deepEqual((await instanceIn(store, NAMES[0])).spec.replication, { fenced: true });
  });

  it("does not wait for a checkpoint longer than 10 s", async () => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
    dir = mkdtempSync(join(tmpdir(), "holdfast-transition-"));
    store = openSqliteStore({ path: join(dir, "store.db") });
    await seed(store, undefined, { phase: "Running", ready: true, pid: 4240, role: "primary", replicationState: seen("primary", "0/3000000") });
    await switchoverFrom(new Date(Date.now() - 11_000).toISOString());
    await passOn(store, { endpoints: endpointsOf(store, events), events });
    assert.deepEqual((await instanceIn(store, NAMES[0])).spec.replication, { fenced: true });
  });
});

describe("a synchronous failover waits for a replica that restarted a moment ago", () => {
  let dir: string;
  let store: Store;
  const events: string[] = [];
  const endpoints = (): ClusterEndpoints => endpointsOf(store, events);
  // Any 1 of the two replicas: with one of them not answering, promoting the other could lose commits.
  const failoverBlock = (from: string, candidates: readonly string[]): string | undefined =>
    synchronousFailoverBlock({ durability: { mode: "synchronous", quorum: 1 }, standbys: NAMES.filter((n) => n !== from) }, candidates);
  const pass = (): Promise<Cluster> => passOn(store, { endpoints: endpoints(), events, failoverBlock });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "holdfast-transition-"));
    store = openSqliteStore({ path: join(dir, "store.db") });
    await seed(store, { "holdfast.io/ha-synchronous": "1" });
    // Ordinal 1 (a former primary that rejoined) runs again but has not answered as a replica yet.
    await report(store, NAMES[1] ?? "", { phase: "Starting", ready: false, pid: 4244, role: undefined, replicationState: undefined });
  });

  after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("asks it for a probe too, and neither gives up nor promotes while it may hold the last commits", async () => {
    assert.equal(recordIn(await pass())?.roleChange?.step, "Fencing");
    await report(store, NAMES[0] ?? "", { phase: "Stopped", ready: false, pid: undefined, replicationState: { observedAt: new Date().toISOString() } });
    const cluster = await pass();
    const record = recordIn(cluster);
    assert.deepEqual([record?.roleChange?.step, record?.roleChange?.result], ["CatchingUp", "InProgress"], JSON.stringify(record));
    const fencedAt = record?.roleChange?.fencedAt;
    assert.equal((await instanceIn(store, NAMES[1])).spec.replication?.observeAfter, fencedAt, "the restarted replica is asked as well");
    await report(store, NAMES[2] ?? "", { replicationState: seen("secondary", "0/3000000") });
    assert.equal(recordIn(await pass())?.roleChange?.step, "CatchingUp", "one answer of two is not enough: wait, do not restart the old primary");
    assert.ok(!events.includes("RestartedInPlace"));
  });

  it("promotes the restarted replica once it answers with the most advanced position", async () => {
    await report(store, NAMES[1] ?? "", { phase: "Running", ready: true, role: "secondary", replicationState: seen("secondary", "0/3000200") });
    const record = recordIn(await pass());
    assert.deepEqual([record?.targetPrimary, record?.roleChange?.step], [NAMES[1], "Promoting"]);
    assert.equal((await instanceIn(store, NAMES[1])).spec.role, "primary");
  });
});

/** The old primary stopped `ago` ms ago, before the control plane (and its node agents) restarted: no replica has answered since. */
async function stopAndAnswersBefore(store: Store, ago: number): Promise<void> {
  const cluster = (await store.get<Cluster>({ kind: "Cluster", namespace: "demo", name: "pg" })) ?? assert.fail("cluster exists");
  const record = recordIn(cluster) ?? assert.fail("a role change is recorded");
  const fencedAt = new Date(Date.now() - ago).toISOString();
  const replication = { ...cluster.status?.replication, postgresql: { ...record, roleChange: { ...record.roleChange, fencedAt } } };
  await store.updateStatus<Cluster>({ ...cluster, status: { ...cluster.status, replication } as Cluster["status"] });
  const before = new Date(Date.now() - 2 * ago).toISOString();
  for (const name of NAMES.slice(1)) await report(store, name, { replicationState: { ...seen("secondary", "0/3000000"), observedAt: before } });
}

describe("a synchronous failover resumed by controllers that began to lead after the stop", () => {
  let dir: string;
  let store: Store;
  const events: string[] = [];
  const failoverBlock = (from: string, candidates: readonly string[]): string | undefined =>
    synchronousFailoverBlock({ durability: { mode: "synchronous", quorum: 1 }, standbys: NAMES.filter((n) => n !== from) }, candidates);
  const pass = (leadingSinceMs?: number): Promise<Cluster> => passOn(store, { endpoints: endpointsOf(store, events), events, failoverBlock, ...(leadingSinceMs === undefined ? {} : { leadingSinceMs }) });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "holdfast-transition-"));
    store = openSqliteStore({ path: join(dir, "store.db") });
    await seed(store, { "holdfast.io/ha-synchronous": "1" });
    assert.equal(recordIn(await pass())?.roleChange?.step, "Fencing");
    await report(store, NAMES[0] ?? "", { phase: "Stopped", ready: false, pid: undefined, replicationState: { observedAt: new Date().toISOString() } });
    assert.equal(recordIn(await pass())?.roleChange?.step, "CatchingUp");
    await stopAndAnswersBefore(store, 10_000);
  });

  after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("waits for the replicas' agents to answer again rather than refuse the failover", async () => {
    const record = recordIn(await pass(Date.now()));
    assert.deepEqual([record?.roleChange?.step, record?.roleChange?.result], ["CatchingUp", "InProgress"], JSON.stringify(record?.roleChange));
  });

  it("still refuses it once the wait has passed for these controllers too and no replica answered", async () => {
    const record = recordIn(await pass(Date.now() - 6_000));
    assert.equal(record?.roleChange?.result, "Failed", JSON.stringify(record?.roleChange));
    assert.match(JSON.stringify(record.roleChange), /must answer/);
  });
});

describe("a failover from a node that is gone: the primary lease stands in for its agent's confirmation", () => {
  let dir: string;
  let store: Store;
  const events: string[] = [];
  const endpoints = (): ClusterEndpoints => endpointsOf(store, events);
  const holder = "node-1/pg-postgresql-0/u0";

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "holdfast-transition-"));
    store = openSqliteStore({ path: join(dir, "store.db") });
    await seed(store);
    // The old primary's agent is gone with its node: its last report says it runs, under the lease it held.
    await report(store, NAMES[0] ?? "", { phase: "Running", ready: true, pid: 4240, role: "primary", primaryLease: { name: "primary", holder, acquiredAt: new Date().toISOString() }, replicationState: seen("primary", "0/3000000") });
  });

  after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("waits while the lease is still held, and goes on once the store says it is free", async () => {
    const held = await passOn(store, { endpoints: endpoints(), events, primaryLease: { holder } });
    assert.equal(recordIn(held)?.roleChange?.step, "Fencing", "the lease is held: the old primary may still accept writes");
    assert.equal((await instanceIn(store, NAMES[0])).spec.replication?.fenced, true, "fenced in its spec, for when its agent returns");
    const expired = await passOn(store, { endpoints: endpoints(), events, primaryLease: { holder: undefined } });
    assert.equal(recordIn(expired)?.roleChange?.step, "CatchingUp", "the lease expired: its agent fenced it, or its node is gone");
  });

  it("once the target answers as primary, a pass that cannot read the lease waits in Promoting: it does not give the new primary up", async () => {
    for (const name of NAMES.slice(1)) await report(store, name, { replicationState: seen("secondary", "0/3000000") });
    const promoting = await passOn(store, { endpoints: endpoints(), events, primaryLease: { holder: undefined } });
    const target = recordIn(promoting)?.targetPrimary ?? assert.fail("a target");
    assert.equal(recordIn(promoting)?.roleChange?.step, "Promoting");
    await report(store, target, { role: "primary", primaryLease: { name: "primary", holder: `node-2/${target}/u1`, acquiredAt: new Date().toISOString() }, replicationState: seen("primary", "0/3000000") });
    // The store did not answer this pass: the old primary is not known to be stopped.
    const unread = await passOn(store, { endpoints: endpoints(), events });
    assert.equal(recordIn(unread)?.roleChange?.step, "Promoting", "not back to Fencing and CatchingUp, where a primary target is no replica");
    assert.deepEqual([(await instanceIn(store, target)).spec.role, (await instanceIn(store, target)).spec.replication?.fenced], ["primary", undefined], "the new primary is neither demoted nor fenced");
    assert.notDeepEqual(readWriteRoute(unread)[0], [target], "nothing routed to it while the old primary is not known stopped");
    const read = await passOn(store, { endpoints: endpoints(), events, primaryLease: { holder: `node-2/${target}/u1` } });
    const record = recordIn(read) ?? assert.fail("recorded");
    assert.deepEqual([record.currentPrimary, record.roleChange?.result], [target, "Succeeded"]);
  });
});
