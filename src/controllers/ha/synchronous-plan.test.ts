import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Cluster, Instance } from "../../api/index.ts";
import type { ReplicationObservation } from "../../engines/index.ts";
import { createPostgresqlEngine } from "../../engines/index.ts";
import { decidePrimary, type ComponentView, type Member } from "./plan.ts";
import { haSettings } from "./settings.ts";
import { ANNOTATION_SYNCHRONOUS, planDurability, quorumShortfall, requestedDurability, synchronousFailoverBlock } from "./synchronous-plan.ts";

const replication = createPostgresqlEngine().replication ?? assert.fail("postgresql has a replication capability");
const replicaName = (instance: string): string => replication.replicaName(instance);
const MEMBERS = ["pg-postgresql-0", "pg-postgresql-1", "pg-postgresql-2"];

function cluster(synchronous?: string): Cluster {
  return {
    apiVersion: "apps.kubeblocks.io/v1",
    kind: "Cluster",
    metadata: { name: "pg", namespace: "demo", uid: "u1", annotations: synchronous === undefined ? {} : { [ANNOTATION_SYNCHRONOUS]: synchronous } },
    spec: { terminationPolicy: "Delete", componentSpecs: [{ name: "postgresql", replicas: 3 }] },
    status: { replication: { postgresql: { currentPrimary: "pg-postgresql-0", targetPrimary: "pg-postgresql-0" } } },
  };
}

describe("requestedDurability", () => {
  const table: [string | undefined, ReturnType<typeof requestedDurability>["durability"], boolean][] = [
    [undefined, { mode: "asynchronous" }, false],
    ["0", { mode: "asynchronous" }, false],
    ["false", { mode: "asynchronous" }, false],
    ["1", { mode: "synchronous", quorum: 1 }, false],
    [" 2 ", { mode: "synchronous", quorum: 2 }, false],
    ["true", { mode: "synchronous", quorum: 1 }, false],
    // Not understood: the safe side (synchronous), said in a warning.
    ["any 1", { mode: "synchronous", quorum: 1 }, true],
    ["-1", { mode: "synchronous", quorum: 1 }, true],
    ["1.5", { mode: "synchronous", quorum: 1 }, true],
  ];
  for (const [value, durability, warns] of table) {
    it(`${JSON.stringify(value)} → ${JSON.stringify(durability)}${warns ? " with a warning" : ""}`, () => {
      const requested = requestedDurability(cluster(value));
      assert.deepEqual(requested.durability, durability);
      assert.equal(requested.warning !== undefined, warns);
    });
  }
});

describe("planDurability", () => {
  it("counts every member but the primary, whatever state it is in", () => {
    assert.deepEqual(planDurability(cluster("1"), MEMBERS, "pg-postgresql-1"), { durability: { mode: "synchronous", quorum: 1 }, standbys: ["pg-postgresql-0", "pg-postgresql-2"] });
  });

  it("asynchronous by default", () => {
    assert.deepEqual(planDurability(cluster(), MEMBERS, "pg-postgresql-0").durability, { mode: "asynchronous" });
  });

  it("a quorum larger than the replicas waits for all of them, and says so", () => {
    const plan = planDurability(cluster("5"), MEMBERS, "pg-postgresql-0");
    assert.deepEqual(plan.durability, { mode: "synchronous", quorum: 2 });
    assert.match(plan.warning ?? "", /only 2 replicas: commits wait for all 2/);
  });

  it("without replicas commits cannot wait for one: asynchronous, said in a warning", () => {
    const plan = planDurability(cluster("1"), ["pg-postgresql-0"], "pg-postgresql-0");
    assert.deepEqual(plan.durability, { mode: "asynchronous" });
    assert.match(plan.warning ?? "", /needs a replica/);
  });
});

describe("synchronousFailoverBlock: with ANY k of n, n - k + 1 must answer", () => {
  const table: { quorum: string; members: string[]; candidates: string[]; blocked: boolean }[] = [
    { quorum: "1", members: MEMBERS, candidates: ["pg-postgresql-1", "pg-postgresql-2"], blocked: false },
    { quorum: "1", members: MEMBERS, candidates: ["pg-postgresql-2"], blocked: true },
    { quorum: "2", members: MEMBERS, candidates: ["pg-postgresql-2"], blocked: false },
    { quorum: "1", members: [...MEMBERS, "pg-postgresql-3"], candidates: ["pg-postgresql-1", "pg-postgresql-2"], blocked: true },
    { quorum: "2", members: [...MEMBERS, "pg-postgresql-3"], candidates: ["pg-postgresql-1", "pg-postgresql-3"], blocked: false },
    { quorum: "0", members: MEMBERS, candidates: ["pg-postgresql-2"], blocked: false },
  ];
  for (const row of table) {
    it(`quorum ${row.quorum}, ${row.members.length} members, ${row.candidates.join(",")} answering → ${row.blocked ? "blocked" : "allowed"}`, () => {
      const plan = planDurability(cluster(row.quorum), row.members, "pg-postgresql-0");
      assert.equal(synchronousFailoverBlock(plan, row.candidates) !== undefined, row.blocked);
    });
  }

  it("says how many must answer and which do", () => {
    const plan = planDurability(cluster("1"), MEMBERS, "pg-postgresql-0");
    assert.match(synchronousFailoverBlock(plan, ["pg-postgresql-2"]) ?? "", /2 of them must answer .* but 1 do \(pg-postgresql-2\)/);
  });
});

describe("quorumShortfall", () => {
  const seen = (states: Record<string, string>): ReplicationObservation => ({
    role: "primary", timeline: 1, received: "0/3000000", applied: "0/3000000", streamingFrom: undefined,
    replicas: Object.entries(states).map(([name, state]) => ({ name, state, lagBytes: 0, lagMs: 0 })),
  });

  it("none while the quorum streams", () => {
    const plan = planDurability(cluster("1"), MEMBERS, "pg-postgresql-0");
    assert.equal(quorumShortfall(plan, "pg-postgresql-0", seen({ pg_postgresql_1: "catchup", pg_postgresql_2: "streaming" }), replicaName), undefined);
  });

  it("commits wait when fewer stream than the quorum, and the message names who is missing", () => {
    const plan = planDurability(cluster("2"), MEMBERS, "pg-postgresql-0");
    const message = quorumShortfall(plan, "pg-postgresql-0", seen({ pg_postgresql_1: "streaming" }), replicaName);
    assert.match(message ?? "", /commits on pg-postgresql-0 wait: 2 synchronous replica\(s\) needed, 1 streaming \(not streaming: pg-postgresql-2\)/);
  });

  it("asynchronous never waits", () => {
    assert.equal(quorumShortfall(planDurability(cluster(), MEMBERS, "pg-postgresql-0"), "pg-postgresql-0", seen({}), replicaName), undefined);
  });
});

describe("decidePrimary with a failover block", () => {
  function instance(ordinal: number): Instance {
    return {
      apiVersion: "holdfast.io/v1alpha1",
      kind: "Instance",
      metadata: { name: `pg-postgresql-${ordinal}`, namespace: "demo", generation: 1 },
      spec: { engine: "postgresql", version: "16.4", clusterName: "pg", componentName: "postgresql", ordinal, port: 20000 + ordinal, running: true, parameters: {}, deleteData: true, role: ordinal === 0 ? "primary" : "secondary", replication: ordinal === 0 ? { fenced: true } : { upstream: "pg-postgresql-0" } },
      status: { phase: ordinal === 0 ? "Stopped" : "Running", ready: ordinal !== 0, ...(ordinal === 0 ? {} : { pid: 100 + ordinal }), startedAt: "2026-01-01T00:00:00Z", role: ordinal === 0 ? undefined : "secondary" },
    };
  }
  const standby = (received: string): ReplicationObservation => ({ role: "secondary", timeline: 1, received, applied: received, streamingFrom: 20000, replicas: [] });

  function view(synchronous: string, answering: number[]): ComponentView {
    const c = cluster(synchronous);
    const members: Member[] = [0, 1, 2].map((i) => ({ name: `pg-postgresql-${i}`, instance: instance(i), observation: i !== 0 && answering.includes(i) ? standby(`0/30000${i}0`) : undefined, failures: 0 }));
    const failoverBlock = (from: string, candidates: readonly string[]): string | undefined => synchronousFailoverBlock(planDurability(c, members.map((m) => m.name), from), candidates);
    return { cluster: c, component: "postgresql", members, settings: haSettings(c), nowMs: Date.parse("2026-01-01T12:00:00Z"), rank: (candidates) => replication.rankCandidates(candidates), failoverBlock };
  }

  it("fails over to the most advanced replica when every quorum member answers", () => {
    assert.deepEqual(decidePrimary(view("1", [1, 2])), { kind: "failover", from: "pg-postgresql-0", to: "pg-postgresql-2", why: "pg-postgresql-0 exited and fenced itself" });
  });

  it("restarts the fenced primary in place (it has every commit) when too few replicas answer", () => {
    const decision = decidePrimary(view("1", [1]));
    assert.equal(decision.kind, "restartInPlace");
    assert.match("why" in decision ? decision.why : "", /synchronous commit .* 2 of them must answer/);
  });

  it("asynchronous: the one replica answering takes over", () => {
    assert.equal(decidePrimary(view("0", [1])).kind, "failover");
  });
});
