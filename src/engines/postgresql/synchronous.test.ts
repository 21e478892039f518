import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { planSynchronousReplication, quorumFailoverIsSafe } from "./synchronous.ts";
import { InvalidError } from "../../errors/index.ts";

describe("planSynchronousReplication", () => {
  it("asynchronous: no standby names, local durability", () => {
    assert.deepEqual(planSynchronousReplication({ mode: "asynchronous" }, ["pg_1"]), { synchronous_standby_names: "", synchronous_commit: "on" });
  });

  it("asynchronous keeps the user's synchronous_commit, even off", () => {
    assert.equal(planSynchronousReplication({ mode: "asynchronous" }, [], { synchronous_commit: "off" }).synchronous_commit, "off");
  });

  const table: { quorum: number; standbys: string[]; names: string }[] = [
    { quorum: 1, standbys: ["pg_1"], names: 'ANY 1 ("pg_1")' },
    { quorum: 1, standbys: ["pg_2", "pg_1"], names: 'ANY 1 ("pg_1", "pg_2")' },
    { quorum: 2, standbys: ["pg_3", "pg_1", "pg_2", "pg_1"], names: 'ANY 2 ("pg_1", "pg_2", "pg_3")' },
    { quorum: 1, standbys: ['we"ird'], names: 'ANY 1 ("we""ird")' },
  ];
  for (const row of table) {
    it(`synchronous quorum ${row.quorum} of ${row.standbys.join(",")} → ${row.names}`, () => {
      assert.deepEqual(planSynchronousReplication({ mode: "synchronous", quorum: row.quorum }, row.standbys), { synchronous_standby_names: row.names, synchronous_commit: "on" });
    });
  }

  it("keeps a waiting synchronous_commit level", () => {
    assert.equal(planSynchronousReplication({ mode: "synchronous", quorum: 1 }, ["a"], { synchronous_commit: "remote_apply" }).synchronous_commit, "remote_apply");
  });

  for (const level of ["off", "local"]) {
    it(`refuses synchronous_commit = ${level} in synchronous mode`, () => {
      assert.throws(() => planSynchronousReplication({ mode: "synchronous", quorum: 1 }, ["a"], { synchronous_commit: level }), (error: unknown) => error instanceof InvalidError && error.causes[0]?.field === "parameters.synchronous_commit");
    });
  }

  for (const [quorum, standbys] of [[0, ["a"]], [1.5, ["a", "b"]], [2, ["a"]], [1, []]] as const) {
    it(`refuses quorum ${quorum} with ${standbys.length} standbys`, () => {
      assert.throws(() => planSynchronousReplication({ mode: "synchronous", quorum }, standbys), (error: unknown) => error instanceof InvalidError && error.causes[0]?.field === "quorum");
    });
  }
});

describe("quorumFailoverIsSafe", () => {
  const table: { quorum: number; members: string[]; reachable: string[]; safe: boolean }[] = [
    { quorum: 1, members: ["a"], reachable: ["a"], safe: true },
    { quorum: 1, members: ["a"], reachable: [], safe: false },
    { quorum: 1, members: ["a", "b"], reachable: ["a"], safe: false },
    { quorum: 1, members: ["a", "b"], reachable: ["a", "b"], safe: true },
    { quorum: 2, members: ["a", "b"], reachable: ["b"], safe: true },
    { quorum: 2, members: ["a", "b", "c"], reachable: ["a", "c"], safe: true },
    { quorum: 2, members: ["a", "b", "c"], reachable: ["c"], safe: false },
    // Reachable instances outside the quorum do not count.
    { quorum: 1, members: ["a", "b"], reachable: ["a", "x"], safe: false },
  ];
  for (const row of table) {
    it(`ANY ${row.quorum} (${row.members.join(",")}) with ${row.reachable.join(",") || "none"} reachable → ${row.safe}`, () => {
      assert.equal(quorumFailoverIsSafe(row.quorum, row.members, row.reachable), row.safe);
    });
  }
});
