import { test } from "node:test";
import assert from "node:assert/strict";
import { instanceConfigHash, type Cluster, type ComponentReplicationStatus, type Instance } from "../../api/index.ts";
import { createPostgresqlEngine } from "../../engines/index.ts";
import type { InstanceToCreate, ResolvedComponent } from "./plan.ts";
import { planRollout, ROLLOUT_REQUESTER } from "./rollout.ts";

const PRIMARY = "pg-postgresql-0";
const STARTED = "2026-01-01T10:00:00.000Z";
const AFTER = "2026-01-01T10:00:05.000Z";
const BEFORE = "2026-01-01T09:59:00.000Z";

const component: ResolvedComponent = {
  name: "postgresql",
  engine: "postgresql",
  version: "15.18",
  replicas: 3,
  stopped: false,
  parameters: {},
  accounts: ["postgres"],
  limitations: [],
  replicated: true,
  ...(createPostgresqlEngine().parameterSchema === undefined ? {} : { parameterSchema: createPostgresqlEngine().parameterSchema }),
};

function cluster(record: ComponentReplicationStatus = { currentPrimary: PRIMARY, targetPrimary: PRIMARY }): Cluster {
  return {
    apiVersion: "apps.kubeblocks.io/v1",
    kind: "Cluster",
    metadata: { name: "pg", namespace: "demo", uid: "u1", generation: 2 },
    spec: { terminationPolicy: "Delete", componentSpecs: [{ name: "postgresql", replicas: 3 }] },
    status: { phase: "Running", replication: { postgresql: record } },
  };
}

/** A settled member running with `parameters`; replicas reported streaming at `observedAt`. */
function member(ordinal: number, parameters: Record<string, string>, observedAt = AFTER): Instance {
  const name = `pg-postgresql-${ordinal}`;
  const primary = name === PRIMARY;
  const spec: Instance["spec"] = { engine: "postgresql", version: "15.18", clusterName: "pg", componentName: "postgresql", ordinal, port: 20000 + ordinal, running: true, role: primary ? "primary" : "secondary", parameters, replication: {}, deleteData: true };
  return {
    apiVersion: "holdfast.io/v1alpha1",
    kind: "Instance",
    metadata: { name, namespace: "demo" },
    spec,
    status: { phase: "Running", ready: true, role: primary ? "primary" : "secondary", appliedConfig: instanceConfigHash(spec), startedAt: STARTED, ...(primary ? {} : { replication: { state: "streaming", lagBytes: 0, observedAt } }) },
  };
}

function updatesTo(live: readonly Instance[], parameters: Record<string, string>): InstanceToCreate[] {
  return live.map((i) => {
    const { port: _port, ...spec } = i.spec;
    return { name: i.metadata.name, spec: { ...spec, parameters } };
  });
}

/** The instances whose parameters change in this pass. */
function released(live: readonly Instance[], updates: readonly InstanceToCreate[], record?: ComponentReplicationStatus): { names: string[]; switchovers: string[] } {
  const rollout = planRollout(cluster(record), [component], live, updates);
  const changes = (u: InstanceToCreate): boolean => JSON.stringify(u.spec.parameters) !== JSON.stringify(live.find((i) => i.metadata.name === u.name)?.spec.parameters);
  const names = rollout.updates.filter(changes).map((u) => u.name);
  return { names, switchovers: rollout.switchovers.map((s) => `${s.from}->${s.to}`) };
}

const LOW = { max_connections: "112", shared_buffers: "256MB" };
const HIGH = { max_connections: "225", shared_buffers: "512MB" };

test("a raise goes replicas first, the highest ordinal first, one at a time", () => {
  const live = [member(0, LOW), member(1, LOW), member(2, LOW)];
  assert.deepEqual(released(live, updatesTo(live, HIGH)), { names: ["pg-postgresql-2"], switchovers: [] });
});

test("a raise whose replicas are done asks for a switchover before the primary", () => {
  const live = [member(0, LOW), member(1, HIGH), member(2, HIGH)];
  assert.deepEqual(released(live, updatesTo(live, HIGH)), { names: [], switchovers: ["pg-postgresql-0->pg-postgresql-1"] });
});

test("during the rollout's switchover the former primary gets its change once fenced, not before", () => {
  const record: ComponentReplicationStatus = { currentPrimary: PRIMARY, targetPrimary: "pg-postgresql-1", roleChange: { reason: "Switchover", requestedBy: ROLLOUT_REQUESTER, from: PRIMARY, to: "pg-postgresql-1", result: "InProgress", startedAt: STARTED } };
  const running = [member(0, LOW), member(1, HIGH), member(2, HIGH)];
  assert.deepEqual(released(running, updatesTo(running, HIGH), record).names, [], "still running: it would restart as a primary");
  const fenced = member(0, LOW);
  fenced.spec.replication = { fenced: true };
  const live = [fenced, member(1, HIGH), member(2, HIGH)];
  assert.deepEqual(released(live, updatesTo(live, HIGH), record).names, [PRIMARY]);
  const failover = { ...record, roleChange: { ...record.roleChange!, reason: "Failover" as const, requestedBy: undefined } };
  assert.deepEqual(released(live, updatesTo(live, HIGH), failover).names, [], "a failover is not the rollout's");
});

test("a lowering restarts the primary first, in place, with no switchover", () => {
  const live = [member(0, HIGH), member(1, HIGH), member(2, HIGH)];
  assert.deepEqual(released(live, updatesTo(live, LOW)), { names: [PRIMARY], switchovers: [] });
});

test("after the lowered primary, a replica goes once the primary has reported it streaming since its restart", () => {
  const stale = [member(0, LOW), member(1, HIGH, BEFORE), member(2, HIGH, BEFORE)];
  assert.deepEqual(released(stale, updatesTo(stale, LOW)).names, [], "reports from before the primary's restart");
  const fresh = [member(0, LOW), member(1, HIGH, BEFORE), member(2, HIGH)];
  assert.deepEqual(released(fresh, updatesTo(fresh, LOW)).names, ["pg-postgresql-2"]);
});

test("a cancelled raise: the replica already raised goes back first, never below the primary, with no switchover", () => {
  const live = [member(0, LOW), member(1, LOW), member(2, HIGH)];
  assert.deepEqual(released(live, updatesTo(live, LOW)), { names: ["pg-postgresql-2"], switchovers: [] });
});

test("nothing moves while a member is not ready", () => {
  const busy = member(1, LOW);
  busy.status = { ...busy.status!, ready: false };
  const live = [member(0, LOW), busy, member(2, LOW)];
  assert.deepEqual(released(live, updatesTo(live, HIGH)).names, []);
});

/** `live` with `name` as the primary and every other member a streaming replica reported at `observedAt`. */
function withPrimary(live: readonly Instance[], name: string, observedAt = AFTER): Instance[] {
  return live.map((i) => {
    const primary = i.metadata.name === name;
    const role = primary ? "primary" : "secondary";
    const spec = { ...i.spec, role } as Instance["spec"];
    const { replication: _replication, ...status } = i.status ?? {};
    return { ...i, spec, status: { ...status, role, appliedConfig: instanceConfigHash(spec), ...(primary ? {} : { replication: { state: "streaming", lagBytes: 0, observedAt } }) } };
  });
}

test("a raise cancelled after its switchover: the new primary lowers first, in place, then the other raised replica; one switchover in all", () => {
  const NEW_PRIMARY = "pg-postgresql-1";
  const record: ComponentReplicationStatus = { currentPrimary: NEW_PRIMARY, targetPrimary: NEW_PRIMARY, roleChange: { reason: "Switchover", requestedBy: ROLLOUT_REQUESTER, from: PRIMARY, to: NEW_PRIMARY, result: "Succeeded", startedAt: STARTED } };
  const live = withPrimary([member(0, LOW), member(1, HIGH), member(2, HIGH)], NEW_PRIMARY);
  assert.deepEqual(released(live, updatesTo(live, LOW), record), { names: [NEW_PRIMARY], switchovers: [] });
  const lowered = withPrimary([member(0, LOW), member(1, LOW), member(2, HIGH)], NEW_PRIMARY, BEFORE);
  assert.deepEqual(released(lowered, updatesTo(lowered, LOW), record).names, [], "not before the lowered primary has reported it streaming");
  const streaming = withPrimary([member(0, LOW), member(1, LOW), member(2, HIGH)], NEW_PRIMARY);
  assert.deepEqual(released(streaming, updatesTo(streaming, LOW), record), { names: ["pg-postgresql-2"], switchovers: [] });
});
