import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Cluster, Instance, InstanceStatus } from "../../api/index.ts";
import type { ReplicationObservation } from "../../engines/index.ts";
import { createPostgresqlEngine } from "../../engines/index.ts";
import { LAG_REFRESH_MS, decidePrimary, desiredSpecs, lagUpdates, primaryDown, roleLabelUpdates, routesFor, specDiffers, withFence, type ComponentView, type Member } from "./plan.ts";
import { DEFAULT_HA_SETTINGS, haSettings } from "./settings.ts";

const NOW = Date.parse("2026-01-01T12:00:00Z");
const LONG_AGO = new Date(NOW - 3_600_000).toISOString();
const replication = createPostgresqlEngine().replication;
if (replication === undefined) throw new Error("postgresql has a replication capability");

function cluster(record?: { currentPrimary?: string; targetPrimary?: string }, annotations: Record<string, string> = {}): Cluster {
  return {
    apiVersion: "apps.kubeblocks.io/v1",
    kind: "Cluster",
    metadata: { name: "pg", namespace: "demo", uid: "u1", annotations },
    spec: { terminationPolicy: "Delete", componentSpecs: [{ name: "postgresql", replicas: 3 }] },
    ...(record === undefined ? {} : { status: { replication: { postgresql: record } } }),
  };
}

function instance(ordinal: number, spec: Partial<Instance["spec"]> = {}, status: InstanceStatus = {}): Instance {
  return {
    apiVersion: "holdfast.io/v1alpha1",
    kind: "Instance",
    metadata: { name: `pg-postgresql-${ordinal}`, namespace: "demo", generation: 1 },
    spec: { engine: "postgresql", version: "16.4", clusterName: "pg", componentName: "postgresql", ordinal, port: 20000 + ordinal, running: true, parameters: {}, deleteData: true, role: ordinal === 0 ? "primary" : "secondary", replication: ordinal === 0 ? {} : { upstream: "pg-postgresql-0" }, ...spec },
    status: { phase: "Running", ready: true, pid: 100 + ordinal, startedAt: LONG_AGO, role: ordinal === 0 ? "primary" : "secondary", ...status },
  };
}

const primarySeen: ReplicationObservation = {
  role: "primary", timeline: 1, received: "0/3000000", applied: "0/3000000", streamingFrom: undefined,
  replicas: [{ name: "pg_postgresql_1", state: "streaming", lagBytes: 0, lagMs: 0.4 }, { name: "pg_postgresql_2", state: "catchup", lagBytes: 4096, lagMs: 12 }],
};

function standby(received: string, timeline = 1): ReplicationObservation {
  return { role: "secondary", timeline, received, applied: received, streamingFrom: 20000, replicas: [] };
}

function member(i: Instance, observation: ReplicationObservation | undefined, failures = 0): Member {
  return { name: i.metadata.name, instance: i, observation, failures };
}

/** A view of `members`; `record` null means the cluster has no replication record yet. */
function view(members: Member[], record: { currentPrimary?: string; targetPrimary?: string } | null = { currentPrimary: "pg-postgresql-0" }, annotations: Record<string, string> = {}): ComponentView {
  const c = cluster(record ?? undefined, annotations);
  return { cluster: c, component: "postgresql", members, settings: haSettings(c), nowMs: NOW, rank: (candidates) => replication!.rankCandidates(candidates) };
}

function healthy(): Member[] {
  return [member(instance(0), primarySeen), member(instance(1), standby("0/3000000")), member(instance(2), standby("0/2FFF000"))];
}

describe("decidePrimary", () => {
  it("fails over when the primary's node agent no longer holds the primary lease (its node is down or cut off)", () => {
    const holder = "node-1/pg-postgresql-0/u0";
    const members = healthy();
    const old = members[0] ?? assert.fail("primary");
    members[0] = member(instance(0, {}, { primaryLease: { name: "primary-u1-postgresql", holder, acquiredAt: LONG_AGO } }), old.observation);
    const lost = { ...view(members), primaryLease: { holder: undefined } };
    const decision = decidePrimary(lost);
    assert.ok(decision.kind === "failover", decision.kind);
    assert.match(decision.why, /no longer holds the primary lease/);
    assert.deepEqual(decidePrimary({ ...view(members), primaryLease: { holder } }), { kind: "steady", primary: "pg-postgresql-0" }, "held: steady");
    assert.deepEqual(decidePrimary(view(members)), { kind: "steady", primary: "pg-postgresql-0" }, "the store could not say: nothing is decided on it");
    const neverLeased = healthy();
    assert.deepEqual(decidePrimary({ ...view(neverLeased), primaryLease: { holder: undefined } }), { kind: "steady", primary: "pg-postgresql-0" }, "a primary whose agent never claimed the lease is not judged by it");
  });

  it("initialises the record with the instance created as primary", () => {
    assert.deepEqual(decidePrimary(view(healthy(), null)), { kind: "initialise", primary: "pg-postgresql-0" });
  });

  it("is steady while the primary answers, and carries out a recorded change of target", () => {
    assert.deepEqual(decidePrimary(view(healthy())), { kind: "steady", primary: "pg-postgresql-0" });
    assert.deepEqual(decidePrimary(view(healthy(), { currentPrimary: "pg-postgresql-0", targetPrimary: "pg-postgresql-2" })), { kind: "transition", from: "pg-postgresql-0", to: "pg-postgresql-2" });
  });

  it("fails over at once to the replica with the most WAL when the primary fenced itself after a crash", () => {
    const members = healthy();
    members[0] = member(instance(0, { replication: { fenced: true, fenceOnExit: true } }, { phase: "Stopped", ready: false, pid: undefined }), undefined);
    members[2] = member(instance(2), standby("0/4000000"));
    const decision = decidePrimary(view(members));
    assert.ok(decision.kind === "failover", decision.kind);
    assert.equal(decision.to, "pg-postgresql-2");
    assert.match(decision.why, /exited and fenced itself/);
  });

  it("fails over an unanswering primary only after the threshold, and not while it is coming up", () => {
    const at = (failures: number, status: InstanceStatus = {}): ComponentView => {
      const members = healthy();
      members[0] = member(instance(0, {}, status), undefined, failures);
      return view(members);
    };
    assert.equal(decidePrimary(at(DEFAULT_HA_SETTINGS.failureThreshold - 1)).kind, "steady");
    assert.equal(decidePrimary(at(DEFAULT_HA_SETTINGS.failureThreshold)).kind, "failover");
    assert.equal(decidePrimary(at(10, { startedAt: new Date(NOW - 1000).toISOString() })).kind, "steady", "it started a second ago");
    assert.equal(decidePrimary(at(10, { phase: "Initializing" })).kind, "steady");
  });

  it("never promotes a replica that is not ready, fenced or not seen as a secondary; without one it restarts a crashed primary in place", () => {
    const fencedPrimary = member(instance(0, { replication: { fenced: true } }, { phase: "Stopped", ready: false, pid: undefined }), undefined);
    const members = [fencedPrimary, member(instance(1, {}, { ready: false, phase: "Starting" }), standby("0/3000000")), member(instance(2, { replication: { upstream: "pg-postgresql-0", fenced: true } }), standby("0/3000000"))];
    const decision = decidePrimary(view(members));
    assert.equal(decision.kind, "restartInPlace");
    const hung = [member(instance(0), undefined, 10), member(instance(1), undefined, 10)];
    assert.equal(decidePrimary(view(hung)).kind, "wait", "a primary that may still run is never restarted or replaced without a candidate");
  });

  it("does nothing when the cluster is stopped, and only restarts in place when failover is turned off", () => {
    const stopped = healthy().map((m) => member({ ...m.instance, spec: { ...m.instance.spec, running: false } }, undefined, 10));
    assert.equal(decidePrimary(view(stopped)).kind, "steady");
    const members = healthy();
    members[0] = member(instance(0, { replication: { fenced: true } }, { ready: false, pid: undefined }), undefined);
    assert.equal(decidePrimary(view(members, { currentPrimary: "pg-postgresql-0" }, { "holdfast.io/ha-failover": "false" })).kind, "restartInPlace");
  });

  it("counts a primary as down only while it should run", () => {
    const settings = DEFAULT_HA_SETTINGS;
    assert.equal(primaryDown(member(instance(0, { running: false }), undefined, 99), settings, NOW), undefined);
    assert.match(primaryDown(member(instance(0), undefined, 3), settings, NOW) ?? "", /did not answer 3 role probes/);
  });
});

describe("desiredSpecs", () => {
  it("makes the primary fence on exit when a replica could take over, and every other member an unfenced replica of it", () => {
    const members = healthy();
    members[0] = member(instance(0, { role: "primary", replication: { fenced: true } }), undefined);
    const specs = desiredSpecs(view(members, { currentPrimary: "pg-postgresql-1" }), "pg-postgresql-1");
    assert.deepEqual(specs, [
      { name: "pg-postgresql-0", role: "secondary", replication: { upstream: "pg-postgresql-1" } },
      { name: "pg-postgresql-1", role: "primary", replication: { fenceOnExit: true } },
      { name: "pg-postgresql-2", role: "secondary", replication: { upstream: "pg-postgresql-1" } },
    ]);
    const single = desiredSpecs(view([member(instance(0), primarySeen)]), "pg-postgresql-0");
    assert.deepEqual(single, [{ name: "pg-postgresql-0", role: "primary", replication: {} }], "a lone primary restarts after a crash: nobody could take over");
  });

  it("never lifts a primary's fence (only a decision does) and sees no change in field order", () => {
    const fenced = instance(0, { role: "primary", replication: { fenced: true, fenceOnExit: true } });
    const desired = { name: "pg-postgresql-0", role: "primary" as const, replication: { fenceOnExit: true } };
    assert.deepEqual(withFence(desired, fenced), { fenceOnExit: true, fenced: true });
    assert.equal(specDiffers(fenced, desired), false);
    assert.equal(specDiffers(instance(0, { role: "primary", replication: { fenceOnExit: true } }), desired), false);
    assert.equal(specDiffers(instance(0, { role: "primary", replication: {} }), desired), true);
    assert.equal(specDiffers(instance(1, { role: "secondary", replication: { upstream: "pg-postgresql-0", fenced: true } }), { name: "pg-postgresql-1", role: "secondary", replication: { upstream: "pg-postgresql-0" } }), true, "a fenced replica is released");
  });
});

describe("routesFor", () => {
  it("sends read-write to the answering primary and read-only to ready replicas; holds read-write during a role change", () => {
    const steady = routesFor(view(healthy()), { kind: "steady", primary: "pg-postgresql-0" });
    assert.deepEqual(steady.readWrite.targets.map((m) => m.name), ["pg-postgresql-0"]);
    assert.equal(steady.readWrite.hold, false);
    assert.deepEqual(steady.readOnly.targets.map((m) => m.name), ["pg-postgresql-1", "pg-postgresql-2"]);
    const changing = routesFor(view(healthy()), { kind: "transition", from: "pg-postgresql-0", to: "pg-postgresql-1" });
    assert.deepEqual(changing.readWrite, { targets: [], hold: true });
    const members = healthy();
    members[0] = member(instance(0, { replication: { fenced: true } }, { ready: false, pid: undefined }), undefined);
    members[2] = member(instance(2, {}, { ready: false }), undefined);
    const degraded = routesFor(view(members), { kind: "wait", primary: "pg-postgresql-0", why: "" });
    assert.deepEqual(degraded.readWrite, { targets: [], hold: true }, "clients wait for the primary to come back");
    assert.deepEqual(degraded.readOnly.targets.map((m) => m.name), ["pg-postgresql-1"]);
  });

  it("keeps read-write on a switchover's primary while it checkpoints, and holds it once the checkpoint is reported (or 10 s passed)", () => {
    const startedAt = new Date(NOW - 1000).toISOString();
    const roleChange = { reason: "Switchover" as const, step: "Fencing" as const, from: "pg-postgresql-0", to: "pg-postgresql-1", result: "InProgress" as const, startedAt };
    const switching = (members: Member[], nowMs = NOW): ComponentView => {
      const v = view(members, { currentPrimary: "pg-postgresql-0", targetPrimary: "pg-postgresql-1" });
      const c = { ...v.cluster, status: { replication: { postgresql: { currentPrimary: "pg-postgresql-0", targetPrimary: "pg-postgresql-1", roleChange } } } };
      return { ...v, cluster: c, checkpoints: true, nowMs };
    };
    const decision = { kind: "transition" as const, from: "pg-postgresql-0", to: "pg-postgresql-1" };
    assert.deepEqual(routesFor(switching(healthy()), decision).readWrite.targets.map((m) => m.name), ["pg-postgresql-0"], "still serving while it checkpoints");
    assert.deepEqual(routesFor({ ...switching(healthy()), checkpoints: false }, decision).readWrite, { targets: [], hold: true }, "engines without a checkpoint hold at once");
    assert.deepEqual(routesFor(switching(healthy(), NOW + 10_000), decision).readWrite, { targets: [], hold: true }, "not waited for beyond 10 s");
    const reported = healthy();
    const old = reported[0] ?? assert.fail("a primary");
    reported[0] = { ...old, instance: { ...old.instance, status: { ...old.instance.status, replicationState: { checkpointed: startedAt } } } };
    assert.deepEqual(routesFor(switching(reported), decision).readWrite, { targets: [], hold: true }, "checkpointed: drained for the stop");
  });

  it("refuses at once what nobody is meant to serve: a stopped cluster, read-only without replicas", () => {
    const stopped = healthy().map((m) => member({ ...m.instance, spec: { ...m.instance.spec, running: false }, status: { phase: "Stopped" } }, undefined));
    const routes = routesFor(view(stopped), { kind: "steady", primary: "pg-postgresql-0" });
    assert.deepEqual([routes.readWrite, routes.readOnly], [{ targets: [], hold: false }, { targets: [], hold: false }]);
    const alone = routesFor(view([member(instance(0), primarySeen)]), { kind: "steady", primary: "pg-postgresql-0" });
    assert.deepEqual(alone.readOnly, { targets: [], hold: false });
  });
});

describe("status reports", () => {
  it("writes a replica's lag from the primary's view: a new state at once, a changed lag at most every few seconds", () => {
    const first = lagUpdates(view(healthy()), "pg-postgresql-0", (name) => name.replaceAll("-", "_"));
    assert.deepEqual(first.map((u) => [u.name, u.replication?.state, u.replication?.lagBytes]), [["pg-postgresql-1", "streaming", 0], ["pg-postgresql-2", "catchup", 4096]]);
    const reported = new Date(NOW - 1000).toISOString();
    const members = healthy().map((m) => member({ ...m.instance, status: { ...m.instance.status, replication: { state: m.name.endsWith("1") ? "streaming" : "catchup", lagBytes: 1, observedAt: reported } } }, m.observation));
    const soon = lagUpdates(view(members), "pg-postgresql-0", (name) => name.replaceAll("-", "_"));
    assert.deepEqual(soon.map((u) => u.name), ["pg-postgresql-0"], "only the primary's stale replica status goes; lag changes wait");
    const later = lagUpdates({ ...view(members), nowMs: NOW + LAG_REFRESH_MS }, "pg-postgresql-0", (name) => name.replaceAll("-", "_"));
    assert.deepEqual(later.map((u) => u.name), ["pg-postgresql-0", "pg-postgresql-1", "pg-postgresql-2"]);
  });

  it("rewrites a replica's unchanged report taken before its primary's running process started", () => {
    const reported = new Date(NOW - 1000).toISOString();
    const withReports = (primaryStartedAt: string): Member[] =>
      healthy().map((m) => {
        if (m.name === "pg-postgresql-0") return member({ ...m.instance, status: { ...m.instance.status, startedAt: primaryStartedAt } }, m.observation);
        const seen = m.name.endsWith("1") ? { state: "streaming", lagBytes: 0, lagMs: 0.4 } : { state: "catchup", lagBytes: 4096, lagMs: 12 };
        return member({ ...m.instance, status: { ...m.instance.status, replication: { ...seen, observedAt: reported } } }, m.observation);
      });
    const same = lagUpdates(view(withReports(LONG_AGO)), "pg-postgresql-0", (name) => name.replaceAll("-", "_"));
    assert.deepEqual(same, [], "nothing new to say");
    const restarted = lagUpdates(view(withReports(new Date(NOW - 500).toISOString())), "pg-postgresql-0", (name) => name.replaceAll("-", "_"));
    assert.deepEqual(restarted.map((u) => [u.name, u.replication?.observedAt]), [["pg-postgresql-1", new Date(NOW).toISOString()], ["pg-postgresql-2", new Date(NOW).toISOString()]]);
  });

  it("labels each member with the role it runs in, and no role while it does not run", () => {
    const members = healthy();
    members[2] = member(instance(2, { replication: { fenced: true } }, { ready: false, pid: undefined }), undefined);
    members[2].instance.metadata.labels = { "kubeblocks.io/role": "primary" };
    assert.deepEqual(roleLabelUpdates(view(members)), [{ name: "pg-postgresql-0", role: "primary" }, { name: "pg-postgresql-1", role: "secondary" }, { name: "pg-postgresql-2", role: undefined }]);
    const restarting = member(instance(1, {}, { ready: false, phase: "Starting" }), undefined);
    restarting.instance.metadata.labels = { "kubeblocks.io/role": "secondary" };
    assert.deepEqual(roleLabelUpdates(view([restarting])), [], "a member briefly unready keeps its label");
  });
});

describe("haSettings", () => {
  it("reads probe period, threshold, failover and catch-up from annotations, ignoring nonsense", () => {
    const tuned = haSettings(cluster(undefined, { "holdfast.io/ha-probe-period-seconds": "0.5", "holdfast.io/ha-failure-threshold": "5", "holdfast.io/ha-failover": "False", "holdfast.io/ha-switchover-catch-up-seconds": "10" }));
    assert.deepEqual(tuned, { ...DEFAULT_HA_SETTINGS, probePeriodMs: 500, failureThreshold: 5, automaticFailover: false, catchUpTimeoutMs: 10_000 });
    assert.deepEqual(haSettings(cluster(undefined, { "holdfast.io/ha-probe-period-seconds": "-1", "holdfast.io/ha-failure-threshold": "lots" })), DEFAULT_HA_SETTINGS);
  });
});
